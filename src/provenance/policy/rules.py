"""One small rule per principle. Each declares what it applies to and what would clear it.

A rule is a plain function `(RuleContext) -> Iterable[Finding]` registered in `RULES` by
the `@rule` decorator, which records the zones and classifications it applies to (as a
pyblish plug-in declares its families), so `evaluate` never calls a rule on an asset it
does not concern. Rules know nothing of files, readers or approvals: they read a Verdict,
the zone and the configuration, and say which approval scopes (if any) clear the finding.

The context a rule is called with is bound to it: `ctx.finding(message, ...)` names the
finding after the rule and its principle, so every finding carries its own rule's name (a
plug-in rule cannot speak for another). Plug-in rules come from the entry-point group
`provenance.rules` (`policy/registry.py`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from provenance.config import Config
from provenance.model import RISK_SCOPE, Classification, Evidence, Finding, Scope, Signal, Verdict, Zone

AI_CLASSES = frozenset({Classification.AI_GENERATED, Classification.AI_EDITED})
ALL_CLASSES = frozenset(Classification)
ACTIVE_ZONES = frozenset({Zone.WORKING, Zone.FINAL})

# Rules whose findings mean "could not decide" rather than "blocked": the gate exits 3 on them.
UNDECIDED_RULES = frozenset({"unreadable", "rule-error", "imf-undecided"})  # imf: provenance.imf.gating


@dataclass(frozen=True)
class RuleContext:
    verdict: Verdict
    zone: Zone
    config: Config
    rule: Rule | None = None  # the rule being run: its findings are named after it

    def finding(self, message: str, clears_with: tuple[Scope, ...] = (), blocking: bool = True) -> Finding:
        if self.rule is None:
            raise RuntimeError("RuleContext.finding outside a rule; use undecided_finding")
        return _finding(self, self.rule.name, self.rule.principle, message, clears_with, blocking)


def _finding(ctx: RuleContext, rule: str, principle: str, message: str, clears_with: tuple[Scope, ...],
             blocking: bool) -> Finding:
    return Finding(rule=rule, principle=principle, path=ctx.verdict.path, sha256=ctx.verdict.sha256,
                   classification=ctx.verdict.classification, message=message, clears_with=clears_with,
                   blocking=blocking)


def undecided_finding(verdict: Verdict, zone: Zone, config: Config, message: str,
                      principle: str | None = None) -> Finding:
    """Fail closed: "could not decide" (rule `rule-error`) when judging itself failed."""
    ctx = RuleContext(verdict, zone, config)
    return _finding(ctx, "rule-error", principle or UNREADABLE, message, (), True)


RuleFn = Callable[[RuleContext], Iterable[Finding]]


@dataclass(frozen=True)
class Rule:
    name: str
    principle: str
    zones: frozenset[Zone]
    classes: frozenset[Classification]
    check: RuleFn
    # What clears a finding of this rule, in words, for `findings` and the reports; it lives
    # with the rule so each rule's advice fits it (a tampered manifest is not "vet the tool").
    remedy: str = ""

    def applies(self, verdict: Verdict, zone: Zone) -> bool:
        return zone in self.zones and verdict.classification in self.classes


RULES: list[Rule] = []


def rule(name: str, principle: str, *, remedy: str, zones: frozenset[Zone] = ACTIVE_ZONES,
         classes: frozenset[Classification] = ALL_CLASSES) -> Callable[[RuleFn], RuleFn]:
    def register(fn: RuleFn) -> RuleFn:
        RULES.append(Rule(name, principle, zones, classes, fn, remedy))
        return fn
    return register


def _scopes_text(scopes: Iterable[Scope]) -> str:
    return " + ".join(f"'{s}'" for s in scopes)


UNREADABLE = "Fail closed: an asset that cannot be read cannot be judged."


# The undecided findings' remedies (rule-error is made by policy itself, not by a rule).
UNDECIDED_REMEDIES = {
    "unreadable": "fix the file or the reader that failed, then judge it again; no approval clears this",
    "rule-error": "fix the rule (or the file it failed on), then judge it again; no approval clears this",
}


@rule("unreadable", UNREADABLE, remedy=UNDECIDED_REMEDIES["unreadable"])
def unreadable(ctx: RuleContext) -> Iterable[Finding]:
    # A reader error means the verdict may be missing the very evidence that matters.
    if ctx.verdict.errors:
        why = "; ".join(ctx.verdict.errors)
        yield ctx.finding(f"could not decide: {why} (fix the file or the tool; no approval clears this)")


TEMPORARY = "Netflix principle 4: generated material is temporary and not part of the final deliverables."


@rule("temporary-material", TEMPORARY, zones=frozenset({Zone.FINAL}), classes=AI_CLASSES,
      remedy="an approval with scope 'final-deliverable', or take it out of the delivery")
def temporary_material(ctx: RuleContext) -> Iterable[Finding]:
    v = ctx.verdict
    made_with = f" (made with {v.declarations.tool or v.generator})" if (v.declarations.tool or v.generator) \
        else ""
    # A derivation the file's own readers found (a stale AI sidecar) is said here; content
    # memory's matches say themselves among the verdict's recollections.
    derived = next((e.value for e in v.evidence if e.field == "possibly_derived_from"
                    and e.source != "content" and e.signal in (Signal.AI_GENERATED, Signal.AI_EDITED)), None)
    yield ctx.finding(f"{v.classification} material{made_with} is in final deliverables"
                      + (f": {derived}" if derived else ""), clears_with=(Scope.FINAL_DELIVERABLE,))


RISK_PRINCIPLES: dict[Scope, str] = {
    Scope.TALENT_LIKENESS: "Netflix principle 5: GenAI does not replace or generate talent likeness or "
                           "performances without the performer's consent.",
    Scope.PERSONAL_DATA: "Written approval is required when generated output involves personal data.",
    Scope.THIRD_PARTY_IP: "Netflix principle 1: outputs do not replicate copyrighted or unowned material "
                          "(third-party IP needs written approval).",
}


def _declared_risk(scope: Scope) -> RuleFn:
    """The rule for one approval scope that declared risks need (named after the scope)."""
    def check(ctx: RuleContext) -> Iterable[Finding]:
        # Wherever the asset sits; a warning while it is working material, blocking once final.
        risks = sorted(str(r) for r in ctx.verdict.declarations.risks if RISK_SCOPE[r] is scope)
        if risks:
            yield ctx.finding(f"declared risk {', '.join(risks)} needs written approval before delivery",
                              clears_with=(scope,), blocking=ctx.zone is Zone.FINAL)
    return check


for _scope in RISK_PRINCIPLES:
    rule(str(_scope), RISK_PRINCIPLES[_scope], remedy=f"an approval with scope '{_scope}'")(
        _declared_risk(_scope))


VETTING = ("Netflix principles 2 and 3: the generative tool does not train on production data and runs "
           "in an enterprise-secured environment.")


@rule("unvetted-tool", VETTING, classes=AI_CLASSES,
      remedy="vet the tool in the production's [[tools]] registry (no approval clears this)")
def unvetted_tool(ctx: RuleContext) -> Iterable[Finding]:
    tool = ctx.verdict.declarations.tool or ctx.verdict.generator
    blocking = ctx.config.unvetted_tool_policy == "block"
    if tool is None:
        yield ctx.finding("AI material names no tool, so the tool cannot be vetted (tag it with --tool; "
                          "only vetting the tool in [[tools]] clears this)", blocking=blocking)
        return
    matching = [t for t in ctx.config.tools if t.matches(tool)]
    if any(t.vetted for t in matching):
        return
    if matching:
        why = "listed but not vetted (trains on inputs or not enterprise-secured)"
    else:
        why = "not in the production's [[tools]] registry"
    yield ctx.finding(f"tool '{tool}' is {why}; only vetting the tool clears this", blocking=blocking)


STRICT = ("Strict mode: every asset in final deliverables must prove its origin with signed evidence "
          "(trusted C2PA capture or declaration) or a signed approval.")
# Evidence of origin that someone signed: only what the c2pa reader found in a manifest store.
_SIGNED_ORIGIN = frozenset({Signal.CAPTURE, Signal.DECLARATION})


def signed_origin(v: Verdict) -> Evidence | None:
    """The evidence that proves `v`'s origin under strict mode, or None.

    Self-asserted metadata is not provenance: anyone can write EXIF Make/Model, an XMP
    CreatorTool or an IPTC DigitalSourceType of digitalCapture (`exiftool -Make=Canon ...`),
    and a sidecar is the same XMP in another file. Only a C2PA claim counts, and only when its
    bytes are intact and its signer chains to one of the production's trust anchors.
    """
    if v.c2pa.integrity != "ok" or v.c2pa.trust != "trusted":
        return None
    return next((e for e in v.evidence if e.source == "c2pa" and e.signal in _SIGNED_ORIGIN), None)


def _unproven(v: Verdict) -> str:
    """Why a verdict does not meet strict mode, in words."""
    if v.tampered:
        return "tampered capture provenance (the bytes changed after the C2PA manifest was signed)"
    claims = [e for e in v.evidence if e.signal is Signal.CAPTURE]
    if not claims:
        return "no provenance evidence"
    c2pa = [e for e in claims if e.source == "c2pa"]
    if c2pa:
        return f"claims capture in C2PA, but its signature is {v.c2pa.trust or 'not verified'} " \
               "(its signer is not one of the production's trust anchors)"
    shown = "; ".join(f"{e.source} {e.field} '{e.value}'" for e in claims[:3])
    return f"claims capture (unsigned: {shown}); self-asserted metadata is not provenance"


@rule("unknown-provenance", STRICT, zones=frozenset({Zone.FINAL}),
      classes=frozenset({Classification.UNKNOWN, Classification.NOT_AI}),
      remedy="C2PA provenance from a trusted signer, or an approval with scope 'final-deliverable'")
def unknown_provenance(ctx: RuleContext) -> Iterable[Finding]:
    v = ctx.verdict
    if ctx.config.unknown_policy != "require-declaration" or v.errors:
        return  # default policy lets unknown pass; unreadable assets have their own rule
    if v.classification is Classification.NOT_AI and signed_origin(v) is not None:
        return
    yield ctx.finding(f"{_unproven(v)}; strict mode needs C2PA provenance from a trusted signer, or an "
                      "approval with scope 'final-deliverable'",
                      clears_with=(Scope.FINAL_DELIVERABLE,))


TAMPER = "Content Credentials integrity: the bytes changed after the C2PA manifest was signed."


@rule("tampered-c2pa", TAMPER,
      remedy="re-export the file from its source (or strip the broken manifest and tag it again); "
             "reported only: it does not block on its own")
def tampered_c2pa(ctx: RuleContext) -> Iterable[Finding]:
    # Reported, not blocking on its own: a tampered AI claim is still AI (temporary-material
    # blocks it), and a tampered capture claim falls to the unknown policy.
    v = ctx.verdict
    if v.tampered:
        codes = f" ({', '.join(v.c2pa.codes)})" if v.c2pa.codes else ""
        yield ctx.finding(f"C2PA manifest does not match the bytes{codes}; its claims are kept as evidence "
                          f"but not trusted as proof", blocking=False)
