"""Close the watch daemon's open findings that an asset's valid approvals now clear.

The same rule as `policy.judge`: a finding is cleared by an approval that grants any scope in
its `clears_with`; a finding whose `clears_with` is empty can never be cleared by approval.
Stored findings carry their rule and `clears_with`, so nothing is re-read from disk here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from provenance.approvals.verify import VerifiedApproval
from provenance.model import Finding

if TYPE_CHECKING:
    from provenance.ledger import Ledger


def clearable(findings: Sequence[Finding], sha256: str, approvals: Sequence[VerifiedApproval]
              ) -> list[Finding]:
    bound = [a for a in approvals if a.subject_sha256 == sha256]
    return [f for f in findings
            if f.sha256 == sha256 and any(set(f.clears_with) & a.scopes for a in bound)]


def clear_findings(ledger: Ledger, sha256: str, approvals: Sequence[VerifiedApproval], reason: str
                   ) -> list[Finding]:
    """Resolve the open findings on `sha256` that `approvals` clear; return them."""
    cleared = clearable(ledger.open_findings(), sha256, approvals)
    if cleared:
        ledger.resolve_findings(sha256, sorted({f.rule for f in cleared}), reason)
    return cleared
