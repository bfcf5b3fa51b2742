"""`signed_json`: the one opening of the DSSE documents that are not approvals (ledger
checkpoints, delivery decisions), each refused as the other however well signed."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from provenance.approvals.keys import load_private, load_public, new_keypair
from provenance.checkpoint import PAYLOAD_TYPE as CHECKPOINT
from provenance.checkpoint import Checkpoint, CheckpointError, open_checkpoint
from provenance.gate.delivery import DecisionFileError, open_decision, sign_decision
from provenance.signed_json import sign_json

DECISION = {"schema": "provenance.delivery-decision/v1", "decision": {"result": "clear"}, "files": []}
CP = Checkpoint(7, "ab" * 32, "2026-12-02T16:00:00+00:00", "sqlite:///ledger.db")


@pytest.fixture
def keys(tmp_path: Path) -> tuple[Path, Path]:
    new_keypair(tmp_path / "a.key")
    new_keypair(tmp_path / "b.key")
    return tmp_path / "a.key", tmp_path / "b.key"


def test_each_opens_with_its_signer_and_no_other(keys: tuple[Path, Path]) -> None:
    a, b = keys
    signed = sign_decision(DECISION, load_private(a))
    assert open_decision(signed, load_public(Path(f"{a}.pub"))) == (DECISION, True)
    assert open_decision(signed, None) == (DECISION, False)  # read, and said to be unchecked
    with pytest.raises(DecisionFileError, match="delivery decision's signature does not verify"):
        open_decision(signed, load_public(Path(f"{b}.pub")))
    cp = sign_json(CP.to_dict(), load_private(a), CHECKPOINT)
    assert open_checkpoint(cp, load_public(Path(f"{a}.pub"))) == CP
    with pytest.raises(CheckpointError, match="ledger checkpoint's signature does not verify"):
        open_checkpoint(cp, load_public(Path(f"{b}.pub")))


def test_a_document_of_one_kind_is_refused_as_the_other(keys: tuple[Path, Path]) -> None:
    a, _ = keys
    public = load_public(Path(f"{a}.pub"))
    cp = sign_json(CP.to_dict(), load_private(a), CHECKPOINT)
    with pytest.raises(DecisionFileError, match="not a delivery decision"):
        open_decision(cp, public)
    with pytest.raises(DecisionFileError, match="not a delivery decision"):
        open_decision(cp, None)  # unchecked is still typed
    with pytest.raises(CheckpointError, match="not a ledger checkpoint"):
        open_checkpoint(sign_decision(DECISION, load_private(a)), public)


def test_an_edited_payload_or_a_malformed_envelope_is_refused(keys: tuple[Path, Path]) -> None:
    a, _ = keys
    public = load_public(Path(f"{a}.pub"))
    signed = sign_decision(DECISION, load_private(a))
    edited = {**signed, "payload": base64.b64encode(json.dumps({**DECISION, "files": [{"path": "x"}]})
                                                    .encode()).decode()}
    with pytest.raises(DecisionFileError, match="does not verify"):
        open_decision(edited, public)
    with pytest.raises(DecisionFileError, match="malformed delivery decision envelope"):
        open_decision({"payloadType": signed["payloadType"], "payload": signed["payload"]}, public)
    deep = sign_json({"x": json.loads("[" * 40 + "]" * 40)}, load_private(a), CHECKPOINT)
    with pytest.raises(CheckpointError, match="nested deeper"):  # the bounds of dsse.load_json
        open_checkpoint(deep, public)
