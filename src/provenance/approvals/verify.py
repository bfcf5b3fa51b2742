"""verify_approval: return exactly what an approval proves, or raise ApprovalError saying why not.

Checked, in this order (the signature first, so nothing unauthenticated is ever believed):
(1) the envelope is well formed and (2) its payloadType is in-toto's; (3) the signature verifies
under the public key of an approver in the registry; (4) the payload is an approval statement;
then, all reported together: (5) the approver is not revoked, (6) nor expired, (7) every scope
is one the approver may grant, (8) the approval has not expired, (9) it was not issued in the
future, and (10) the subject digest equals the asset's CURRENT sha256 — the binding to bytes.
A different subject *name* alone is only a note: files get renamed, bytes are what was approved.

Approver expiry and revocation are judged at `now`, not at signing time: the issue time inside
a statement is the signer's own claim, and we have no trusted timestamp yet. Fail closed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from provenance.approvals import dsse
from provenance.approvals.registry import Approver, ApproverRegistry
from provenance.approvals.statement import ApprovalStatement, parse_statement
from provenance.errors import ApprovalError
from provenance.model import Scope

# Clocks on a show's machines disagree a little; more than this is not skew.
CLOCK_SKEW = dt.timedelta(minutes=5)


@dataclass(frozen=True)
class VerifiedApproval:
    approver: str
    email: str
    scopes: frozenset[Scope]
    reference: str
    issued_at: dt.datetime
    expires_at: dt.datetime | None
    subject_name: str
    subject_sha256: str
    note: str
    policy_version: str
    key_id: str
    notes: tuple[str, ...] = field(default=())  # warnings that do not invalidate (a renamed file)

    def to_dict(self) -> dict[str, Any]:
        return {
            "approver": self.approver,
            "email": self.email,
            "scopes": sorted(s.value for s in self.scopes),
            "reference": self.reference,
            "issued_at": self.issued_at.isoformat(),
            "expires_at": self.expires_at.isoformat() if self.expires_at else None,
            "subject_name": self.subject_name,
            "subject_sha256": self.subject_sha256,
            "note": self.note,
            "policy_version": self.policy_version,
            "key_id": self.key_id,
            "notes": list(self.notes),
        }


def short(sha: str) -> str:
    return sha[:12] + "…" if len(sha) > 12 else sha


def signer(env: dsse.Envelope, registry: ApproverRegistry) -> Approver:
    hinted = registry.by_key_id(env.keyid) if env.keyid else None
    if hinted is not None:
        if dsse.verify(hinted.public_key, env):
            return hinted
        raise ApprovalError(f"signature does not match the content for {hinted.name}'s key: the approval "
                            "was altered after it was signed (or forged under their key id)")
    # keyid is only a hint: a missing or unknown one still gets a chance against every key.
    for approver in registry.approvers:
        if dsse.verify(approver.public_key, env):
            return approver
    known = f"{len(registry.approvers)} approvers in {registry.path}" if registry.approvers else \
        f"no approvers registry at {registry.path}"
    raise ApprovalError(f"not signed by any known approver (key id {short(env.keyid) or 'none'}; {known})")


def verify_approval(envelope: dict[str, Any], current_sha256: str, registry: ApproverRegistry,
                    now: dt.datetime | None = None, *, current_name: str | None = None
                    ) -> VerifiedApproval:
    now = now or dt.datetime.now(dt.UTC)
    env = dsse.parse(envelope)  # (1)
    if env.payload_type != dsse.PAYLOAD_TYPE:  # (2)
        raise ApprovalError(f"wrong payloadType {env.payload_type!r} (expected {dsse.PAYLOAD_TYPE!r})")
    approver = signer(env, registry)  # (3)
    st = parse_statement(env.payload)  # (4)
    who = f"approval by {approver.name} on {st.issued_at.date().isoformat()}"

    problems: list[str] = []
    if approver.revoked:  # (5)
        when = f" on {approver.revoked_at}" if approver.revoked_at else ""
        problems.append(f"{who}: approver {approver.name} was revoked{when}")
    if approver.expired(now):  # (6)
        assert approver.expires is not None
        problems.append(f"{who}: approver {approver.name}'s authority expired on "
                        f"{approver.expires.isoformat()}")
    scopes, not_allowed = _scopes(st, approver)  # (7)
    if not_allowed:
        allowed = ", ".join(sorted(s.value for s in approver.scopes)) or "none"
        problems.append(f"{who}: {approver.name} may not grant scope {', '.join(not_allowed)} "
                        f"(allowed: {allowed})")
    if st.expires_at is not None and now >= st.expires_at:  # (8)
        problems.append(f"{who} expired on {st.expires_at.isoformat()}")
    if st.issued_at > now + CLOCK_SKEW:  # (9)
        problems.append(f"{who} claims to be issued in the future ({st.issued_at.isoformat()})")
    if st.subject_sha256 != current_sha256.lower():  # (10)
        problems.append(f"{who} is for sha256 {short(st.subject_sha256)}; the file is now "
                        f"{short(current_sha256)}")
    if problems:
        raise ApprovalError("; ".join(problems))

    notes: tuple[str, ...] = ()
    if current_name is not None and st.subject_name and st.subject_name != current_name:
        notes = (f"approved as {st.subject_name!r}, now named {current_name!r} (same bytes)",)
    return VerifiedApproval(
        approver=approver.name, email=approver.email, scopes=scopes, reference=st.reference,
        issued_at=st.issued_at, expires_at=st.expires_at, subject_name=st.subject_name,
        subject_sha256=st.subject_sha256, note=st.note, policy_version=st.policy_version,
        key_id=approver.key_id, notes=notes,
    )


def _scopes(st: ApprovalStatement, approver: Approver) -> tuple[frozenset[Scope], list[str]]:
    granted: set[Scope] = set()
    refused: list[str] = []
    for raw in st.scopes:
        try:
            scope = Scope(raw)
        except ValueError:
            refused.append(f"{raw!r} (unknown)")
            continue
        if scope in approver.scopes:
            granted.add(scope)
        else:
            refused.append(scope.value)
    return frozenset(granted), refused
