"""Build and sign one approval, refusing anything the registry would later reject.

The signer is whoever owns the key: the approver is found by matching the key's public half
in the registry, never by a name typed on the command line. A revoked or expired approver, or
a scope they may not grant, is refused before anything is signed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from provenance.approvals import dsse
from provenance.approvals.keys import key_id
from provenance.approvals.registry import Approver, ApproverRegistry
from provenance.approvals.statement import ApprovalStatement
from provenance.approvals.verify import VerifiedApproval, verify_approval
from provenance.errors import ApprovalError
from provenance.model import Scope


def approver_for_key(key: Ed25519PrivateKey, registry: ApproverRegistry, scopes: Iterable[Scope],
                     now: dt.datetime) -> Approver:
    kid = key_id(key.public_key())
    approver = registry.by_key_id(kid)
    if approver is None:
        raise ApprovalError(f"this key (id {kid[:12]}…) belongs to no approver in {registry.path}; "
                            "add it with `provenance approvers add`")
    if approver.revoked:
        raise ApprovalError(f"approver {approver.name} is revoked and may not sign approvals")
    if approver.expired(now):
        raise ApprovalError(f"approver {approver.name}'s authority expired on {approver.expires}")
    refused = sorted(s.value for s in set(scopes) - approver.scopes)
    if refused:
        allowed = ", ".join(sorted(s.value for s in approver.scopes)) or "none"
        raise ApprovalError(f"{approver.name} may not grant {', '.join(refused)} (allowed: {allowed})")
    return approver


def sign_approval(
    key: Ed25519PrivateKey,
    registry: ApproverRegistry,
    *,
    subject_name: str,
    sha256: str,
    scopes: Iterable[Scope],
    reference: str,
    expires_at: dt.datetime | None = None,
    note: str = "",
    policy_version: str = "1",
    now: dt.datetime | None = None,
) -> tuple[dict[str, Any], VerifiedApproval]:
    """Sign an approval of the bytes whose digest is `sha256`; return the envelope and what it proves."""
    now = (now or dt.datetime.now(dt.UTC)).replace(microsecond=0)
    scope_set = frozenset(scopes)
    if not scope_set:
        raise ApprovalError("an approval needs at least one --scope")
    if not reference.strip():
        raise ApprovalError("an approval needs a --ref (ticket or email id of the written approval)")
    if expires_at is not None and expires_at <= now:
        raise ApprovalError(f"--expires {expires_at.isoformat()} is already in the past")
    approver = approver_for_key(key, registry, scope_set, now)
    statement = ApprovalStatement(
        subject_name=subject_name, subject_sha256=sha256.lower(), approver=approver.name,
        email=approver.email, key_id=approver.key_id, scopes=tuple(sorted(s.value for s in scope_set)),
        reference=reference.strip(), issued_at=now, expires_at=expires_at, note=note,
        policy_version=policy_version,
    )
    envelope = dsse.sign(key, statement.payload(), approver.key_id)
    # Check our own output with the same code the gate runs: a record we cannot verify is useless.
    return envelope, verify_approval(envelope, sha256, registry, now, current_name=subject_name)
