"""Policy: a Verdict in a zone, under a configuration, with verified approvals → Findings.

`evaluate` is the stable entry point (watch daemon, `approve`, the gate). `judge` also
returns what approvals cleared, so the gate can report "approved" rather than "clear".
Approvals are duck-typed (`scopes`, `subject_sha256`) so policy never imports the
approvals package; only approvals whose subject is the verdict's exact bytes count.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from provenance.config import Config
from provenance.model import Finding, Scope, Verdict, Zone
from provenance.policy.registry import active_rules
from provenance.policy.rules import UNDECIDED_RULES, RuleContext, undecided_finding

__all__ = ["UNDECIDED_RULES", "Clearance", "Judgement", "clearing", "evaluate", "judge", "shortfall"]


class GrantsScopes(Protocol):
    @property
    def approver(self) -> str: ...

    @property
    def scopes(self) -> frozenset[Scope]: ...

    @property
    def subject_sha256(self) -> str: ...


@dataclass(frozen=True)
class Clearance:
    finding: Finding
    approval: GrantsScopes


@dataclass(frozen=True)
class Judgement:
    open: list[Finding] = field(default_factory=list)  # not cleared: blocking ones and warnings
    cleared: list[Clearance] = field(default_factory=list)

    @property
    def blocking(self) -> list[Finding]:
        return [f for f in self.open if f.blocking]

    @property
    def undecided(self) -> list[Finding]:
        return [f for f in self.open if f.rule in UNDECIDED_RULES]


def judge(verdict: Verdict, zone: Zone, config: Config,
          approvals: Sequence[GrantsScopes] = ()) -> Judgement:
    if zone is Zone.IGNORE:
        return Judgement()
    found: list[Finding] = []
    for r in active_rules():
        if not r.applies(verdict, zone):
            continue
        try:
            found.extend(r.check(RuleContext(verdict, zone, config, r)))
        except Exception as exc:  # a broken rule must not read as "clear"
            found.append(undecided_finding(verdict, zone, config, f"could not decide: rule {r.name} failed: "
                                           f"{type(exc).__name__}: {exc}", r.principle))
    bound = [a for a in approvals if verdict.sha256 and a.subject_sha256 == verdict.sha256]
    judgement = Judgement()
    for f in found:
        used = clearing(f, bound, config)
        if used:
            judgement.cleared.extend(Clearance(f, a) for a in used)
            continue
        short = shortfall(f, bound, config)
        judgement.open.append(dataclasses.replace(f, message=f"{f.message} ({short})") if short else f)
    return judgement


def _granting(scope: Scope, finding: Finding, approvals: Sequence[GrantsScopes]) -> dict[str, GrantsScopes]:
    """One approval per distinct approver that grants `scope` for the finding's bytes."""
    by: dict[str, GrantsScopes] = {}
    for a in approvals:
        if scope in a.scopes and finding.sha256 is not None and a.subject_sha256 == finding.sha256:
            by.setdefault(a.approver, a)
    return by


def clearing(finding: Finding, approvals: Sequence[GrantsScopes], config: Config) -> list[GrantsScopes]:
    """The approvals that clear `finding`, or [] if it is not cleared: for one of the scopes it
    clears with, valid approvals by as many distinct approvers as `[approvals] required` asks
    (one by default). The same approver signing twice still counts once."""
    for scope in finding.clears_with:
        by = _granting(scope, finding, approvals)
        if by and len(by) >= config.required_approvers(scope):
            return list(by.values())
    return []


def shortfall(finding: Finding, approvals: Sequence[GrantsScopes], config: Config) -> str | None:
    """Why approvals that exist do not yet clear `finding` (too few distinct approvers)."""
    for scope in finding.clears_with:
        by = _granting(scope, finding, approvals)
        needed = config.required_approvers(scope)
        if by and len(by) < needed:
            return (f"'{scope}' needs approvals by {needed} different approvers; "
                    f"{len(by)} so far: {', '.join(sorted(by))}")
    return None


def evaluate(verdict: Verdict, zone: Zone, config: Config,
             approvals: Sequence[GrantsScopes] = ()) -> list[Finding]:
    """Findings still open for this asset; a finding cleared by a valid approval is not returned."""
    return judge(verdict, zone, config, approvals).open
