"""Approvals: signed, byte-bound statements that clear AI material for delivery.

A DSSE envelope (dsse.py) around an in-toto Statement (statement.py) whose subject is the
asset's sha256, signed with an approver's Ed25519 key (keys.py) listed in the reviewed approvers
file (registry.py). `verify_approval` returns only what it proved; `find_approvals` gathers the
portable files and ledger records for one asset and verifies each against its current bytes.
"""

from __future__ import annotations

from provenance.approvals.lookup import find_approvals, portable_path, write_portable
from provenance.approvals.registry import Approver, ApproverRegistry
from provenance.approvals.sign import sign_approval
from provenance.approvals.verify import VerifiedApproval, verify_approval

__all__ = [
    "Approver",
    "ApproverRegistry",
    "VerifiedApproval",
    "find_approvals",
    "portable_path",
    "sign_approval",
    "verify_approval",
    "write_portable",
]
