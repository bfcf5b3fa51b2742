"""The decision file a delivery travels with, and the receiver's check against it.

`gate --decision FILE` writes what the ledger records of the run plus the (relative path,
sha256) of every file judged. `verify_delivery(paths, decision)` walks the received copy the way
the gate walked the package (same relative names, same sidecar rule) and says whether it is
exactly what was judged: every file present with its judged bytes, nothing extra, and the same
`inputs_digest`. A file swapped between the gate and the transfer shows up here by name.

With `gate --decision-key KEY` the file is a DSSE envelope (Ed25519, its own payload type, so
it can never pass for an approval or a checkpoint) and `verify-delivery --public-key KEY.pub`
accepts only a file that key signed: the receiver then knows the decision is the gate's.
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from provenance.approvals import dsse
from provenance.approvals.keys import key_id
from provenance.errors import ApprovalError, ProvenanceError
from provenance.gate.digests import inputs_digest
from provenance.gate.result import GateResult
from provenance.gate.walk import walk_package
from provenance.identify import sha256_file

SCHEMA = "provenance.delivery-decision/v1"
PAYLOAD_TYPE = "application/vnd.provenance.delivery-decision+json"


class DecisionFileError(ProvenanceError):
    """The decision file is unreadable, of another kind, or inconsistent with itself (exit 3)."""


def decision_file(record: dict[str, Any], result: GateResult, approvals_dir: str) -> dict[str, Any]:
    """The decision file's content: the ledger's record of the run and the files it judged."""
    files = sorted((o.relpath, o.verdict.sha256) for a in result.assets for o in a.files)
    return {"schema": SCHEMA, "decision": record, "approvals_dir": approvals_dir,
            "files": [{"path": path, "sha256": sha} for path, sha in files]}


def sign_decision(content: dict[str, Any], key: Ed25519PrivateKey) -> dict[str, Any]:
    """`content` (from `decision_file`) as a DSSE envelope signed with `key`."""
    payload = json.dumps(content, sort_keys=True, separators=(",", ":")).encode("utf-8")
    return dsse.sign(key, payload, key_id(key.public_key()), PAYLOAD_TYPE)


def open_decision(doc: Any, public: Ed25519PublicKey | None) -> tuple[Any, bool]:
    """(the decision file's content, whether its signature was checked). With `public`, only
    a file that key signed is accepted; a signed file without `public` is read unchecked."""
    if not (isinstance(doc, dict) and "payloadType" in doc):
        if public is not None:
            raise DecisionFileError("the decision file is not signed, but a public key was given")
        return doc, False
    try:
        env = dsse.parse(doc, kind="delivery decision")
    except ApprovalError as exc:
        raise DecisionFileError(exc.reason) from None
    if env.payload_type != PAYLOAD_TYPE:
        raise DecisionFileError(f"not a delivery decision (payload type {env.payload_type!r})")
    if public is not None and not dsse.verify(public, env):
        raise DecisionFileError("the decision file's signature does not verify with the given public key "
                                f"(key id {key_id(public)[:16]}…): forged, edited, or signed by another key")
    try:
        return dsse.load_json(env.payload, "the signed decision"), public is not None
    except ApprovalError as exc:
        raise DecisionFileError(exc.reason) from None


@dataclass(frozen=True)
class DeliveryCheck:
    """How a received copy compares with the decision it came with."""

    result: str  # what the gate decided ("clear" is the only one a delivery may arrive with)
    expected_digest: str
    digest: str  # inputs_digest of what arrived
    missing: list[str] = field(default_factory=list)  # judged, not delivered
    extra: list[str] = field(default_factory=list)  # delivered, never judged
    changed: list[str] = field(default_factory=list)  # delivered with other bytes than judged
    unreadable: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return (self.result == "clear" and self.digest == self.expected_digest
                and not (self.missing or self.extra or self.changed or self.unreadable))

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "result": self.result, "expected_inputs_digest": self.expected_digest,
                "inputs_digest": self.digest, "missing": self.missing, "extra": self.extra,
                "changed": self.changed, "unreadable": self.unreadable}


def _judged_files(decision: Any) -> tuple[dict[str, Any], dict[str, str | None]]:
    if not isinstance(decision, dict) or decision.get("schema") != SCHEMA:
        raise DecisionFileError(f"not a gate decision file (schema {SCHEMA} expected)")
    record, files = decision.get("decision"), decision.get("files")
    if not isinstance(record, dict) or not isinstance(files, list) or not all(
            isinstance(f, dict) and isinstance(f.get("path"), str)
            and (f.get("sha256") is None or isinstance(f.get("sha256"), str)) for f in files):
        raise DecisionFileError("malformed gate decision file (decision or files missing)")
    judged = {f["path"]: f["sha256"] for f in files}
    # The list must be the one the digest was made of: an edited list is not a decision.
    if inputs_digest(judged.items()) != record.get("inputs_digest"):
        raise DecisionFileError("the decision file's file list does not match its inputs_digest "
                                "(edited after the gate wrote it)")
    return record, judged


def verify_delivery(paths: Sequence[str | os.PathLike[str]], decision: Any) -> DeliveryCheck:
    """Compare the files below `paths` with `decision` (a decision file's parsed content)."""
    record, judged = _judged_files(decision)
    approvals_dir = decision.get("approvals_dir")
    delivered: dict[str, str | None] = {}
    unreadable = []
    for pf in walk_package(paths, approvals_dir if isinstance(approvals_dir, str) else ""):
        try:
            if not stat.S_ISREG(os.stat(pf.path).st_mode):  # a FIFO would block the read forever
                raise OSError(0, "not a regular file")
            delivered[pf.relpath] = sha256_file(pf.path)
        except OSError as exc:
            delivered[pf.relpath] = None
            unreadable.append(f"{pf.relpath}: {exc.strerror or exc}")
    return DeliveryCheck(
        result=str(record.get("result")), expected_digest=str(record.get("inputs_digest")),
        digest=inputs_digest(delivered.items()),
        missing=sorted(set(judged) - set(delivered)),
        extra=sorted(set(delivered) - set(judged)),
        changed=sorted(p for p in set(judged) & set(delivered)
                       if delivered[p] is not None and delivered[p] != judged[p]),
        unreadable=unreadable,
    )
