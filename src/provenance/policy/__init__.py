"""Policy: a Verdict in a zone, under a configuration, with verified approvals → Findings.

`evaluate` is the stable entry point (watch daemon, `approve`, the gate). `judge` also
returns what approvals cleared, so the gate can report "approved" rather than "clear".
Approvals are duck-typed (`scopes`, `subject_sha256`) so policy never imports the
approvals package; only approvals whose subject is the verdict's exact bytes count.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from provenance.config import Config
from provenance.model import Finding, Scope, Verdict, Zone
from provenance.policy.rules import RULES, UNDECIDED_RULES, RuleContext

__all__ = ["UNDECIDED_RULES", "Clearance", "Judgement", "evaluate", "judge"]


class GrantsScopes(Protocol):
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
    ctx = RuleContext(verdict, zone, config)
    found: list[Finding] = []
    for r in RULES:
        if not r.applies(verdict, zone):
            continue
        try:
            found.extend(r.check(ctx))
        except Exception as exc:  # a broken rule must not read as "clear"
            found.append(ctx.finding("rule-error", r.principle,
                                     f"could not decide: rule {r.name} failed: {type(exc).__name__}: {exc}"))
    bound = [a for a in approvals if verdict.sha256 and a.subject_sha256 == verdict.sha256]
    judgement = Judgement()
    for f in found:
        approval = next((a for a in bound if set(f.clears_with) & set(a.scopes)), None)
        if approval is None:
            judgement.open.append(f)
        else:
            judgement.cleared.append(Clearance(f, approval))
    return judgement


def evaluate(verdict: Verdict, zone: Zone, config: Config,
             approvals: Sequence[GrantsScopes] = ()) -> list[Finding]:
    """Findings still open for this asset; a finding cleared by a valid approval is not returned."""
    return judge(verdict, zone, config, approvals).open
