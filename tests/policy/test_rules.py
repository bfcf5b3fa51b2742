"""Each policy rule: what it flags, where, how severe, and what clears it."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

from provenance.approvals import VerifiedApproval
from provenance.config import Config, ToolEntry
from provenance.model import (
    C2paSummary,
    Classification,
    Declarations,
    Evidence,
    Risk,
    Scope,
    Signal,
    Verdict,
    Zone,
)
from provenance.policy import evaluate, judge

SHA = "ab" * 32
BASE = Config(base_dir=Path("/show"))
VETTED = Config(base_dir=Path("/show"), tools=(ToolEntry("Adobe Firefly*", trains_on_inputs=False,
                                                          enterprise=True),))


def verdict(cls: Classification = Classification.AI_GENERATED, *, tool: str | None = "Adobe Firefly 3",
            risks: frozenset[Risk] = frozenset(), errors: tuple[str, ...] = (),
            c2pa: C2paSummary | None = None, sha: str | None = SHA) -> Verdict:
    return Verdict(path="final/shot.png", sha256=sha, format="png", size=10, classification=cls,
                   declarations=Declarations(tool=tool, risks=risks), errors=errors,
                   c2pa=c2pa or C2paSummary())


def approval(*scopes: Scope, sha: str = SHA, by: str = "J. Doe") -> VerifiedApproval:
    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    return VerifiedApproval(approver=by, email="jd@studio.example", scopes=frozenset(scopes),
                            reference="LEGAL-7", issued_at=now, expires_at=None, subject_name="shot.png",
                            subject_sha256=sha, note="", policy_version="1", key_id="k")


def rules(findings: list) -> dict[str, bool]:
    return {f.rule: f.blocking for f in findings}


def test_temporary_material_blocks_ai_in_final_and_names_the_scope() -> None:
    for cls in (Classification.AI_GENERATED, Classification.AI_EDITED):
        found = evaluate(verdict(cls), Zone.FINAL, VETTED)
        assert rules(found) == {"temporary-material": True}
        assert found[0].clears_with == (Scope.FINAL_DELIVERABLE,)
        assert "principle 4" in found[0].principle


def test_temporary_material_allows_ai_in_working_zone() -> None:
    assert evaluate(verdict(), Zone.WORKING, VETTED) == []


def test_final_deliverable_approval_clears_and_is_reported_as_cleared() -> None:
    j = judge(verdict(), Zone.FINAL, VETTED, [approval(Scope.FINAL_DELIVERABLE)])
    assert j.open == [] and [c.finding.rule for c in j.cleared] == ["temporary-material"]


def test_approval_for_other_bytes_clears_nothing() -> None:
    found = evaluate(verdict(), Zone.FINAL, VETTED, [approval(Scope.FINAL_DELIVERABLE, sha="cd" * 32)])
    assert rules(found) == {"temporary-material": True}


def test_wrong_scope_does_not_clear() -> None:
    found = evaluate(verdict(), Zone.FINAL, VETTED, [approval(Scope.PERSONAL_DATA)])
    assert rules(found) == {"temporary-material": True}


def test_declared_risks_need_their_scope_warning_in_working_blocking_in_final() -> None:
    v = verdict(risks=frozenset({Risk.PERFORMANCE, Risk.PERSONAL_DATA, Risk.THIRD_PARTY_IP}))
    assert rules(evaluate(v, Zone.WORKING, VETTED)) == {
        "talent-likeness": False, "personal-data": False, "third-party-ip": False}
    final = evaluate(v, Zone.FINAL, VETTED)
    assert rules(final) == {"temporary-material": True, "talent-likeness": True, "personal-data": True,
                            "third-party-ip": True}
    assert {f.rule: f.clears_with for f in final}["talent-likeness"] == (Scope.TALENT_LIKENESS,)


def test_final_deliverable_approval_alone_does_not_cover_a_declared_risk() -> None:
    v = verdict(risks=frozenset({Risk.TALENT_LIKENESS}))
    found = evaluate(v, Zone.FINAL, VETTED, [approval(Scope.FINAL_DELIVERABLE)])
    assert rules(found) == {"talent-likeness": True}
    assert evaluate(v, Zone.FINAL, VETTED, [approval(Scope.FINAL_DELIVERABLE, Scope.TALENT_LIKENESS)]) == []


def test_unvetted_tool_warns_by_default_blocks_when_configured_and_no_approval_clears_it() -> None:
    v = verdict(tool="SketchyGen 2")
    assert rules(evaluate(v, Zone.WORKING, BASE)) == {"unvetted-tool": False}
    strict = Config(base_dir=Path("/show"), unvetted_tool_policy="block")
    found = evaluate(v, Zone.FINAL, strict, [approval(*Scope)])
    assert rules(found) == {"unvetted-tool": True}
    assert found[0].clears_with == ()


def test_listed_but_unvetted_tool_and_unnamed_tool_are_findings() -> None:
    listed = Config(base_dir=Path("/show"), tools=(ToolEntry("Midjourney*"),))  # trains on inputs
    assert "listed but not vetted" in evaluate(verdict(tool="Midjourney v7"), Zone.WORKING, listed)[0].message
    assert rules(evaluate(verdict(tool=None), Zone.WORKING, VETTED)) == {"unvetted-tool": False}
    assert evaluate(verdict(tool="adobe firefly image 3"), Zone.WORKING, VETTED) == []  # glob, any case


def test_unknown_passes_by_default_and_blocks_in_strict_mode() -> None:
    v = verdict(Classification.UNKNOWN, tool=None)
    assert evaluate(v, Zone.FINAL, BASE) == []
    strict = Config(base_dir=Path("/show"), unknown_policy="require-declaration")
    found = evaluate(v, Zone.FINAL, strict)
    assert rules(found) == {"unknown-provenance": True}
    assert evaluate(v, Zone.FINAL, strict, [approval(Scope.FINAL_DELIVERABLE)]) == []


def test_unreadable_blocks_as_could_not_decide_and_nothing_clears_it() -> None:
    v = verdict(Classification.UNKNOWN, errors=("permission denied",), sha=None)
    found = evaluate(v, Zone.FINAL, BASE, [approval(*Scope)])
    assert rules(found) == {"unreadable": True}
    assert "could not decide" in found[0].message and found[0].clears_with == ()
    assert judge(v, Zone.FINAL, BASE).undecided


def test_tampered_c2pa_is_reported_and_a_tampered_ai_claim_is_still_ai() -> None:
    tampered = C2paSummary(present=True, integrity="tampered", codes=("assertion.dataHash.mismatch",))
    found = evaluate(verdict(c2pa=tampered), Zone.FINAL, VETTED)
    assert rules(found) == {"temporary-material": True, "tampered-c2pa": False}
    assert "assertion.dataHash.mismatch" in next(f for f in found if f.rule == "tampered-c2pa").message


def test_tampered_capture_claim_counts_as_unknown_in_strict_mode() -> None:
    tampered = C2paSummary(present=True, integrity="tampered")
    strict = Config(base_dir=Path("/show"), unknown_policy="require-declaration")
    found = evaluate(verdict(Classification.NOT_AI, tool=None, c2pa=tampered), Zone.FINAL, strict)
    assert rules(found) == {"unknown-provenance": True, "tampered-c2pa": False}


def test_strict_mode_needs_signed_trusted_capture_not_self_asserted_tags() -> None:
    strict = Config(base_dir=Path("/show"), unknown_policy="require-declaration")
    camera = Evidence("exif", "Make/Model", "Canon Canon EOS R5", Signal.CAPTURE, "Canon Canon EOS R5")
    signed = Evidence("c2pa", "c2pa.manifest", "C2PA provenance with no AI signal", Signal.CAPTURE)
    trusted = C2paSummary(present=True, integrity="ok", trust="trusted")

    def with_(evidence: tuple[Evidence, ...], c2pa: C2paSummary | None = None) -> Verdict:
        return dataclasses.replace(verdict(Classification.NOT_AI, tool=None, c2pa=c2pa), evidence=evidence)

    [unsigned] = evaluate(with_((camera,)), Zone.FINAL, strict)
    assert unsigned.rule == "unknown-provenance" and unsigned.clears_with == (Scope.FINAL_DELIVERABLE,)
    assert "claims capture (unsigned: exif Make/Model 'Canon Canon EOS R5')" in unsigned.message
    # a trusted C2PA store elsewhere does not vouch for an EXIF claim beside it
    assert rules(evaluate(with_((camera,), trusted), Zone.FINAL, strict)) == {"unknown-provenance": True}
    for trust in ("untrusted", "expired", "invalid"):
        [f] = evaluate(with_((signed,), C2paSummary(present=True, integrity="ok", trust=trust)),
                       Zone.FINAL, strict)
        assert f"signature is {trust}" in f.message
    assert evaluate(with_((signed, camera), trusted), Zone.FINAL, strict) == []
    assert evaluate(with_((camera,)), Zone.FINAL, strict, [approval(Scope.FINAL_DELIVERABLE)]) == []
    assert evaluate(with_((camera,)), Zone.FINAL, BASE) == []  # the default policy lets it pass


def test_ignore_zone_has_no_findings() -> None:
    assert evaluate(verdict(risks=frozenset({Risk.PERSONAL_DATA})), Zone.IGNORE, BASE) == []


def test_a_rule_that_raises_blocks_as_undecided(monkeypatch) -> None:
    from provenance.policy import rules as rules_mod

    def broken(ctx):
        raise RuntimeError("boom")

    import provenance.policy as policy

    table = (*rules_mod.RULES,
             rules_mod.Rule("broken", "p", rules_mod.ACTIVE_ZONES, rules_mod.ALL_CLASSES, broken))
    monkeypatch.setattr(policy, "active_rules", lambda: table)
    j = judge(verdict(), Zone.FINAL, VETTED, [approval(*Scope)])
    assert [f.rule for f in j.open] == ["rule-error"] and "boom" in j.open[0].message


TWO_FOR_LIKENESS = Config(base_dir=Path("/show"), tools=VETTED.tools,
                          approvers_required=((Scope.TALENT_LIKENESS, 2),))


def test_a_two_person_rule_needs_two_different_approvers() -> None:
    likeness = verdict(risks=frozenset({Risk.TALENT_LIKENESS}))
    one = [approval(Scope.FINAL_DELIVERABLE, Scope.TALENT_LIKENESS, by="Legal")]
    j = judge(likeness, Zone.FINAL, TWO_FOR_LIKENESS, one)
    # final-deliverable needs one approver (not listed): cleared; likeness needs two: still open
    assert [c.finding.rule for c in j.cleared] == ["temporary-material"]
    [still] = j.open
    assert still.rule == "talent-likeness" and still.blocking
    assert "needs approvals by 2 different approvers; 1 so far: Legal" in still.message
    # the same approver signing again still counts once
    twice = [*one, approval(Scope.TALENT_LIKENESS, by="Legal")]
    assert rules(evaluate(likeness, Zone.FINAL, TWO_FOR_LIKENESS, twice)) == {"talent-likeness": True}
    both = [*one, approval(Scope.TALENT_LIKENESS, by="Producer")]
    j = judge(likeness, Zone.FINAL, TWO_FOR_LIKENESS, both)
    assert j.open == []
    assert sorted(c.approval.approver for c in j.cleared if c.finding.rule == "talent-likeness") == \
        ["Legal", "Producer"]


def test_without_a_rule_one_approver_is_enough() -> None:
    likeness = verdict(risks=frozenset({Risk.TALENT_LIKENESS}))
    assert evaluate(likeness, Zone.FINAL, VETTED,
                    [approval(Scope.FINAL_DELIVERABLE, Scope.TALENT_LIKENESS)]) == []


def test_the_daemons_findings_close_by_the_same_two_person_rule() -> None:
    from provenance.approvals.clearing import clearable

    likeness = verdict(risks=frozenset({Risk.TALENT_LIKENESS}))
    found = evaluate(likeness, Zone.FINAL, TWO_FOR_LIKENESS)
    first = [approval(Scope.FINAL_DELIVERABLE, Scope.TALENT_LIKENESS, by="Legal")]
    assert [f.rule for f in clearable(found, SHA, first, TWO_FOR_LIKENESS)] == ["temporary-material"]
    second = [*first, approval(Scope.TALENT_LIKENESS, by="Producer")]
    assert sorted(f.rule for f in clearable(found, SHA, second, TWO_FOR_LIKENESS)) == \
        ["talent-likeness", "temporary-material"]
