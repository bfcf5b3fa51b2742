"""The policy's rules: the built-ins (`rules.py`) plus plug-ins from the entry-point group
`provenance.rules`, as the readers' table works (`evidence/registry.py`).

An entry point names a `Rule` (or a sequence of them), e.g. in a plug-in's pyproject:

    [project.entry-points."provenance.rules"]
    union-consent = "studio_rules:UNION_CONSENT"

A plug-in adds rules; it cannot replace or shadow a built-in (a name already taken is a
configuration error), and one that fails to load is an error, never a silently shorter rule
list: the gate is then undecided (exit 3).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable

from provenance.errors import ConfigError
from provenance.model import Finding
from provenance.policy.rules import RULES, UNDECIDED_REMEDIES, UNDECIDED_RULES, Rule

GROUP = "provenance.rules"


def _plugin_rules() -> list[Rule]:
    from importlib.metadata import entry_points

    found: list[Rule] = []
    for ep in entry_points(group=GROUP):
        try:
            loaded = ep.load()
        except Exception as exc:
            raise ConfigError(f"policy rule plug-in {ep.name!r} ({ep.value}) could not be loaded: "
                              f"{type(exc).__name__}: {exc}") from None
        items = loaded if isinstance(loaded, Iterable) else [loaded]
        for item in items:
            if not isinstance(item, Rule):
                raise ConfigError(f"policy rule plug-in {ep.name!r} ({ep.value}) is not a Rule: "
                                  f"{type(item).__name__}")
            found.append(item)
    return found


@functools.cache
def active_rules() -> tuple[Rule, ...]:
    """Every rule policy runs, built-ins first, each name once."""
    out = list(RULES)
    taken = {r.name for r in out} | UNDECIDED_RULES
    for r in _plugin_rules():
        if r.name in taken:
            raise ConfigError(f"policy rule plug-in names a rule {r.name!r} that already exists")
        taken.add(r.name)
        out.append(r)
    return tuple(out)


def available() -> dict[str, str]:
    """Every rule name with its principle (`provenance rules`-style listings, docs)."""
    return {r.name: r.principle for r in active_rules()}


def remedy(finding: Finding) -> str:
    """What clears `finding`, in words: its rule's own remedy; for a plug-in rule that gives
    none, the approval scopes that clear it, if any."""
    if finding.rule in UNDECIDED_REMEDIES:
        return UNDECIDED_REMEDIES[finding.rule]
    own = next((r.remedy for r in active_rules() if r.name == finding.rule and r.remedy), None)
    if own:
        return own
    if finding.clears_with:
        return "an approval with scope " + " or ".join(f"'{s}'" for s in finding.clears_with)
    return "see the message (no approval clears this)"
