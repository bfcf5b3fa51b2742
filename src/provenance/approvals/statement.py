"""The approval as an in-toto Statement v1: subject = the asset's name and sha256.

in-toto/attestation spec/v1/statement.md: every subject MUST carry a digest, and
subjects are immutable — the digest, not the name, is what an approval is bound to.
The predicate is ours (PREDICATE_TYPE). The payload is canonical JSON (sorted keys,
no spaces, UTF-8) so the same approval always serialises to the same signed bytes.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from typing import Any

from provenance.approvals.dsse import load_json
from provenance.errors import ApprovalError
from provenance.model import Scope

STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
PREDICATE_TYPE = "https://provenance-tool.org/approval/v1"
# A signed "not derived from X" record (approvals/not_derived.py) travels beside approvals.
NOT_DERIVED_PREDICATE = "https://provenance-tool.org/not-derived-from/v1"
_HEX64 = re.compile(r"[0-9a-f]{64}")
MAX_STATEMENT_BYTES = 1 << 20  # ours are a few hundred bytes


def canonical_json(obj: Any) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def format_time(t: dt.datetime) -> str:
    """RFC 3339 in UTC with a Z, second precision: what the statement stores."""
    return t.astimezone(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def parse_time(text: str) -> dt.datetime:
    """An RFC 3339 time; a naive time is taken as UTC."""
    t = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return t if t.tzinfo else t.replace(tzinfo=dt.UTC)


@dataclass(frozen=True)
class ApprovalStatement:
    """The signed content of one approval, parsed and checked for shape (not for trust)."""

    subject_name: str
    subject_sha256: str
    approver: str  # as the signer wrote it; the registry, not this field, says who signed
    email: str
    key_id: str
    scopes: tuple[str, ...]  # raw strings: an unknown scope is rejected by verify, with its name
    reference: str
    issued_at: dt.datetime
    expires_at: dt.datetime | None
    note: str
    policy_version: str

    def to_statement(self) -> dict[str, Any]:
        predicate: dict[str, Any] = {
            "approver": {"name": self.approver, "email": self.email, "keyid": self.key_id},
            "scopes": sorted(self.scopes),
            "reference": self.reference,
            "issuedAt": format_time(self.issued_at),
            "policyVersion": self.policy_version,
        }
        if self.expires_at is not None:
            predicate["expiresAt"] = format_time(self.expires_at)
        if self.note:
            predicate["note"] = self.note
        return {
            "_type": STATEMENT_TYPE,
            "subject": [{"name": self.subject_name, "digest": {"sha256": self.subject_sha256}}],
            "predicateType": PREDICATE_TYPE,
            "predicate": predicate,
        }

    def payload(self) -> bytes:
        return canonical_json(self.to_statement())


def _need(obj: dict[str, Any], key: str, kind: type, where: str) -> Any:
    value = obj.get(key)
    if not isinstance(value, kind):
        raise ApprovalError(f"malformed approval statement: {where}{key} missing or not a "
                            f"{kind.__name__}")
    return value


def parse_statement(payload: bytes) -> ApprovalStatement:
    """Parse signed payload bytes into an ApprovalStatement, or raise ApprovalError saying what is wrong."""
    doc = load_json(payload, "malformed approval statement: the payload", MAX_STATEMENT_BYTES)
    if not isinstance(doc, dict):
        raise ApprovalError("malformed approval statement: not a JSON object")
    if doc.get("_type") != STATEMENT_TYPE:
        raise ApprovalError(f"not an in-toto Statement v1 (_type {doc.get('_type')!r})")
    if doc.get("predicateType") != PREDICATE_TYPE:
        raise ApprovalError(f"not a provenance approval (predicateType {doc.get('predicateType')!r})")
    subjects = _need(doc, "subject", list, "")
    # One asset per approval: with several subjects, "which bytes were approved" gets ambiguous.
    if len(subjects) != 1 or not isinstance(subjects[0], dict):
        raise ApprovalError("malformed approval statement: expected exactly one subject")
    subject = subjects[0]
    digest = _need(subject, "digest", dict, "subject.")
    sha = digest.get("sha256")
    if not isinstance(sha, str) or not _HEX64.fullmatch(sha):
        raise ApprovalError("malformed approval statement: subject has no sha256 digest")
    pred = _need(doc, "predicate", dict, "")
    approver = _need(pred, "approver", dict, "predicate.")
    scopes = _need(pred, "scopes", list, "predicate.")
    if not scopes or not all(isinstance(s, str) for s in scopes):
        raise ApprovalError("malformed approval statement: predicate.scopes must list at least one scope")
    try:
        issued = parse_time(_need(pred, "issuedAt", str, "predicate."))
        # Absent means "never expires"; present, it must be a time. Anything else (a number,
        # null, an object) would otherwise be read as the most permissive answer there is.
        expires = parse_time(_need(pred, "expiresAt", str, "predicate.")) if "expiresAt" in pred else None
    except ValueError as exc:
        raise ApprovalError(f"malformed approval statement: bad time ({exc})") from None
    return ApprovalStatement(
        subject_name=str(subject.get("name", "")),
        subject_sha256=sha,
        approver=str(approver.get("name", "")),
        email=str(approver.get("email", "")),
        key_id=str(approver.get("keyid", "")),
        scopes=tuple(scopes),
        reference=str(pred.get("reference", "")),
        issued_at=issued,
        expires_at=expires,
        note=str(pred.get("note", "")),
        policy_version=str(pred.get("policyVersion", "")),
    )


def valid_scopes() -> str:
    return ", ".join(s.value for s in Scope)
