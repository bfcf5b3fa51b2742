"""Signed "not derived from X" records: an approver clears a false content-memory match.

Content memory says a file is (possibly) derived from an AI original when their fingerprints
are near. When a person has looked and the two are unrelated (a similar sky, a stock plate
both were made from), an approver signs a record bound to the pair: the derivative's sha256
(the in-toto subject, like an approval) and the original's sha256 (in the predicate). It
travels like an approval (the same portable file beside the asset or in the package approvals
folder, and the ledger's approvals records) and is verified like one: the DSSE signature
under a key of the signed approvers registry, the approver not revoked nor expired and
allowed to grant `final-deliverable` (a dismissal clears a delivery block just as an approval
does), not issued in the future, and the subject equal to the file's CURRENT bytes. A record
that fails any check dismisses nothing (fail closed: the match keeps blocking).

It dismisses that one match only: another derivative of the same original (other bytes) and
a match of the same file against another original still count.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from provenance.approvals import dsse
from provenance.approvals.lookup import gather_envelopes, peek
from provenance.approvals.registry import ApproverRegistry
from provenance.approvals.sign import approver_for_key
from provenance.approvals.statement import (
    NOT_DERIVED_PREDICATE,
    STATEMENT_TYPE,
    canonical_json,
    format_time,
    parse_time,
)
from provenance.approvals.verify import CLOCK_SKEW, short, signer
from provenance.config import Config
from provenance.errors import ApprovalError
from provenance.model import Scope

if TYPE_CHECKING:
    from provenance.ledger_view import LedgerView

PREDICATE_TYPE = NOT_DERIVED_PREDICATE
LEDGER_SCOPE = "not-derived-from"  # what the ledger's approvals row lists as its "scope"
REQUIRED_SCOPE = Scope.FINAL_DELIVERABLE
_HEX64 = re.compile(r"[0-9a-f]{64}")
_MAX_BYTES = 1 << 20


@dataclass(frozen=True)
class NotDerived:
    """What a verified record proves: `approver` signed that these bytes are not derived from
    the original."""

    derivative_sha256: str
    original_sha256: str
    original_name: str
    subject_name: str
    approver: str
    email: str
    key_id: str
    reference: str
    issued_at: dt.datetime
    note: str

    def to_statement(self) -> dict[str, Any]:
        predicate: dict[str, Any] = {
            "approver": {"name": self.approver, "email": self.email, "keyid": self.key_id},
            "notDerivedFrom": {"name": self.original_name, "digest": {"sha256": self.original_sha256}},
            "reference": self.reference,
            "issuedAt": format_time(self.issued_at),
        }
        if self.note:
            predicate["note"] = self.note
        return {"_type": STATEMENT_TYPE,
                "subject": [{"name": self.subject_name, "digest": {"sha256": self.derivative_sha256}}],
                "predicateType": PREDICATE_TYPE, "predicate": predicate}

    def statement(self) -> str:
        """The sentence every output shows for a dismissed match."""
        return (f"not derived from {self.original_name or short(self.original_sha256)} "
                f"(sha256 {self.original_sha256}): signed by {self.approver} ({self.reference}) on "
                f"{self.issued_at.date().isoformat()}")

    def to_dict(self) -> dict[str, Any]:
        return {"derivative_sha256": self.derivative_sha256, "original_sha256": self.original_sha256,
                "original_name": self.original_name, "subject_name": self.subject_name,
                "approver": self.approver, "email": self.email, "key_id": self.key_id,
                "reference": self.reference, "issued_at": self.issued_at.isoformat(), "note": self.note}


def is_not_derived(envelope: dict[str, Any]) -> bool:
    """Routing only (which verifier a record goes to), never a trust decision."""
    return peek(envelope)[1] == PREDICATE_TYPE


def _digest(obj: Any, where: str) -> str:
    sha = obj.get("digest", {}).get("sha256") if isinstance(obj, dict) and \
        isinstance(obj.get("digest"), dict) else None
    if not isinstance(sha, str) or not _HEX64.fullmatch(sha):
        raise ApprovalError(f"malformed not-derived-from record: {where} has no sha256 digest")
    return sha


def _parse(payload: bytes) -> NotDerived:
    doc = dsse.load_json(payload, "the record's payload", _MAX_BYTES)
    if not isinstance(doc, dict) or doc.get("_type") != STATEMENT_TYPE \
            or doc.get("predicateType") != PREDICATE_TYPE:
        raise ApprovalError("not a not-derived-from record")
    subjects = doc.get("subject")
    if not isinstance(subjects, list) or len(subjects) != 1:
        raise ApprovalError("malformed not-derived-from record: expected exactly one subject")
    pred = doc.get("predicate")
    if not isinstance(pred, dict) or not isinstance(pred.get("approver"), dict):
        raise ApprovalError("malformed not-derived-from record: no predicate.approver")
    original = pred.get("notDerivedFrom")
    issued = pred.get("issuedAt")
    if not isinstance(issued, str):
        raise ApprovalError("malformed not-derived-from record: no predicate.issuedAt")
    try:
        issued_at = parse_time(issued)
    except ValueError as exc:
        raise ApprovalError(f"malformed not-derived-from record: bad time ({exc})") from None
    approver = pred["approver"]
    derivative_sha, original_sha = _digest(subjects[0], "subject"), _digest(original, "notDerivedFrom")
    assert isinstance(original, dict) and isinstance(subjects[0], dict)  # _digest checked both
    return NotDerived(
        derivative_sha256=derivative_sha, original_sha256=original_sha,
        original_name=str(original.get("name", "")), subject_name=str(subjects[0].get("name", "")),
        approver=str(approver.get("name", "")), email=str(approver.get("email", "")),
        key_id=str(approver.get("keyid", "")), reference=str(pred.get("reference", "")),
        issued_at=issued_at, note=str(pred.get("note", "")))


def verify_not_derived(envelope: dict[str, Any], current_sha256: str, registry: ApproverRegistry,
                       now: dt.datetime | None = None) -> NotDerived:
    """What the record proves, or ApprovalError saying why it proves nothing. The signature is
    checked first, so nothing unauthenticated is ever parsed as a claim."""
    now = now or dt.datetime.now(dt.UTC)
    env = dsse.parse(envelope)
    if env.payload_type != dsse.PAYLOAD_TYPE:
        raise ApprovalError(f"wrong payloadType {env.payload_type!r} (expected {dsse.PAYLOAD_TYPE!r})")
    approver = signer(env, registry)
    record = _parse(env.payload)
    who = f"not-derived-from record by {approver.name} on {record.issued_at.date().isoformat()}"
    problems = []
    if approver.revoked:
        problems.append(f"{who}: approver {approver.name} was revoked")
    if approver.expired(now):
        problems.append(f"{who}: approver {approver.name}'s authority expired on {approver.expires}")
    if REQUIRED_SCOPE not in approver.scopes:
        problems.append(f"{who}: {approver.name} may not grant {REQUIRED_SCOPE.value}, which clearing a "
                        "match needs")
    if record.issued_at > now + CLOCK_SKEW:
        problems.append(f"{who} claims to be issued in the future ({record.issued_at.isoformat()})")
    if record.derivative_sha256 != current_sha256.lower():
        problems.append(f"{who} is for sha256 {short(record.derivative_sha256)}; the file is now "
                        f"{short(current_sha256)}")
    if problems:
        raise ApprovalError("; ".join(problems))
    # The registry, not the signed text, says who signed.
    return dataclasses.replace(record, approver=approver.name, email=approver.email, key_id=approver.key_id)


def sign_not_derived(key: Ed25519PrivateKey, registry: ApproverRegistry, *, subject_name: str, sha256: str,
                     original_sha256: str, original_name: str, reference: str, note: str = "",
                     now: dt.datetime | None = None) -> tuple[dict[str, Any], NotDerived]:
    """Sign that the bytes `sha256` are not derived from `original_sha256`; the envelope and
    what it proves (checked with the verifier the gate runs)."""
    now = (now or dt.datetime.now(dt.UTC)).replace(microsecond=0)
    if not reference.strip():
        raise ApprovalError("a not-derived-from record needs a --ref (the review ticket)")
    if sha256.lower() == original_sha256.lower():
        raise ApprovalError("a file cannot be declared not derived from itself")
    approver = approver_for_key(key, registry, {REQUIRED_SCOPE}, now)
    record = NotDerived(derivative_sha256=sha256.lower(), original_sha256=original_sha256.lower(),
                        original_name=original_name, subject_name=subject_name, approver=approver.name,
                        email=approver.email, key_id=approver.key_id, reference=reference.strip(),
                        issued_at=now, note=note)
    envelope = dsse.sign(key, canonical_json(record.to_statement()), approver.key_id)
    return envelope, verify_not_derived(envelope, sha256, registry, now)


def find_not_derived(path: Path | None, sha256: str, config: Config, ledger: LedgerView | None,
                     registry: ApproverRegistry, now: dt.datetime | None = None
                     ) -> tuple[list[NotDerived], list[str]]:
    """Every verified record for these bytes, from the portable files near `path` and the
    ledger (each once), and one reason per record that did not verify."""
    found, reasons = gather_envelopes(path, sha256, config, ledger)
    valid: list[NotDerived] = []
    for label, envelope in found:
        if not is_not_derived(envelope):
            continue
        try:
            valid.append(verify_not_derived(envelope, sha256, registry, now))
        except ApprovalError as exc:
            reasons.append(f"{label}: {exc.reason}")
    return valid, reasons
