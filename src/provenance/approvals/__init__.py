"""Approvals: signed, byte-bound statements that clear AI material for delivery.

A DSSE envelope (dsse.py) around an in-toto Statement (statement.py) whose subject is the
asset's sha256, signed with an approver's Ed25519 key (keys.py) listed in the reviewed approvers
file (registry.py). `verify_approval` returns only what it proved; `find_approvals` gathers the
portable files and ledger records for one asset and verifies each against its current bytes.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from provenance.approvals.lookup import find_approvals, portable_path, write_portable
    from provenance.approvals.registry import Approver, ApproverRegistry
    from provenance.approvals.sign import sign_approval
    from provenance.approvals.verify import VerifiedApproval, verify_approval

# Each name's module, imported on first use: `from provenance.approvals.outside import …` (the
# gate's start-up checks) runs this file first, and must not pull in the whole signing stack.
_HOME = {
    "Approver": "registry", "ApproverRegistry": "registry", "VerifiedApproval": "verify",
    "find_approvals": "lookup", "portable_path": "lookup", "sign_approval": "sign",
    "verify_approval": "verify", "write_portable": "lookup",
}


def __getattr__(name: str) -> Any:
    if name in _HOME:
        return getattr(import_module(f"{__name__}.{_HOME[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


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
