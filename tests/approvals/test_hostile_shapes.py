"""Approval documents in shapes a signer or an artist could make: each is refused with a clear
reason, never read as something milder (issue 10 item 18)."""

from __future__ import annotations

import base64
import json
import subprocess
from pathlib import Path

import pytest

from provenance.approvals import dsse, sign_approval, verify_approval
from provenance.approvals.lookup import read_portable
from provenance.errors import ApprovalError
from provenance.identify import sha256_file
from provenance.model import Scope
from tests.approvals.conftest import NOW
from tests.gate.conftest import PROVENANCE, ai_png
from tests.show_ledger import make_ledger


def _resigned(person, registry, asset: Path, edit) -> dict:
    """A statement signed by a registered approver after `edit` changed its predicate (what a
    tool other than ours, or a careless script, could sign)."""
    envelope, _ = sign_approval(person.key, registry, subject_name=asset.name, sha256=sha256_file(asset),
                                scopes=(Scope.FINAL_DELIVERABLE,), reference="LEGAL-7", now=NOW)
    statement = json.loads(base64.b64decode(envelope["payload"]))
    edit(statement["predicate"])
    payload = json.dumps(statement).encode()
    return dsse.sign(person.key, payload, registry.get(person.name).key_id)


@pytest.mark.parametrize("expires", [1700000000, 0, [], {"at": "2020-01-01T00:00:00Z"}, True, None])
def test_an_expires_at_that_is_not_a_time_string_is_refused_not_read_as_never(
        doe, registry, asset, expires) -> None:
    envelope = _resigned(doe, registry, asset, lambda p: p.update(expiresAt=expires))
    far_future = NOW.replace(year=2027)
    with pytest.raises(ApprovalError) as info:
        verify_approval(envelope, sha256_file(asset), registry, far_future)
    assert "expiresAt" in info.value.reason


def test_an_approval_without_expires_at_still_never_expires(doe, registry, asset) -> None:
    envelope = _resigned(doe, registry, asset, lambda p: p.pop("expiresAt", None))
    assert verify_approval(envelope, sha256_file(asset), registry, NOW.replace(year=2027)).expires_at is None


def test_a_deeply_nested_signed_payload_is_refused_with_its_reason(doe, registry, asset) -> None:
    envelope = _resigned(doe, registry, asset, lambda p: p.update(note=[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[
        ]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]))
    statement = json.loads(base64.b64decode(envelope["payload"]))
    deep = json.dumps(statement).replace("[[", "[" * 200_000 + "[", 1).replace("]]", "]" * 200_000 + "]", 1)
    envelope = dsse.sign(doe.key, deep.encode(), registry.get(doe.name).key_id)
    with pytest.raises(ApprovalError) as info:
        verify_approval(envelope, sha256_file(asset), registry, NOW)
    assert "nested" in info.value.reason


@pytest.mark.parametrize("shape", ["array", "object", "huge"])
def test_a_hostile_approval_file_is_an_unreadable_approval_naming_the_file(
        tmp_path: Path, shape: str) -> None:
    file = tmp_path / "shot.png.approval.json"
    if shape == "array":
        file.write_text("[" * 100_000 + "]" * 100_000)
    elif shape == "object":
        file.write_text('{"a":' * 50_000 + "1" + "}" * 50_000)
    else:
        file.write_text(json.dumps({"approvals": [{"pad": "x" * (17 << 20)}]}))
    with pytest.raises(ApprovalError) as info:
        read_portable(file)
    assert info.value.path == str(file)
    assert ("nested" if shape != "huge" else "larger") in info.value.reason


def test_the_gate_reports_a_nested_approval_file_as_a_rejected_approval_not_an_internal_error(
        tmp_path: Path, exiftool_available: None) -> None:
    # Through the real CLI in a subprocess: blocked (exit 1) with the file and the reason.
    show = tmp_path / "show"
    (show / ".provenance").mkdir(parents=True)
    (show / "provenance.toml").write_text('[ledger]\nurl = "sqlite:///.provenance/ledger.db"\n'
                                          '[policy]\nunvetted_tools = "warn"\n')
    make_ledger(show / "provenance.toml")
    gen = ai_png(show / "deliveries" / "EP101" / "gen.png")
    gen.with_name("gen.png.approval.json").write_text("[" * 200_000 + "]" * 200_000)
    run = subprocess.run([str(PROVENANCE), "gate", "--config", str(show / "provenance.toml"), "--json",
                          str(gen.parent)], capture_output=True, text=True, timeout=120)
    assert run.returncode == 1, run.stderr
    assert "internal error" not in run.stderr and "RecursionError" not in run.stdout + run.stderr
    (entry,) = [a for a in json.loads(run.stdout)["assets"] if a["name"] == "gen.png"]
    assert entry["status"] == "blocked"
    assert any("gen.png.approval.json" in r and "nested" in r for r in entry["rejections"]), entry
