"""Close the watch daemon's open findings that an asset's valid approvals now clear.

The same rule as `policy.judge` (`policy.clearing`): a finding is cleared by valid approvals
granting a scope in its `clears_with`, from as many distinct approvers as the configuration
requires; a finding whose `clears_with` is empty can never be cleared by approval. Stored
findings carry their rule and `clears_with`, so nothing is re-read from disk here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from provenance.approvals.verify import VerifiedApproval
from provenance.config import Config
from provenance.model import Finding
from provenance.policy import clearing

if TYPE_CHECKING:
    from provenance.ledger import Ledger


def clearable(findings: Sequence[Finding], sha256: str, approvals: Sequence[VerifiedApproval],
              config: Config) -> list[Finding]:
    return [f for f in findings if f.sha256 == sha256 and clearing(f, approvals, config)]


def clear_findings(ledger: Ledger, sha256: str, approvals: Sequence[VerifiedApproval], reason: str,
                   config: Config) -> list[Finding]:
    """Resolve the open findings on `sha256` that `approvals` clear; return them."""
    cleared = clearable(ledger.open_findings(), sha256, approvals, config)
    if cleared:
        ledger.resolve_findings(sha256, sorted({f.rule for f in cleared}), reason)
    return cleared
