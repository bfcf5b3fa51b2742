"""The one judging step (`provenance.judge`): memory enters through one seam and says so,
a failure anywhere is undecided for the file at fault only, never clear."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest

from provenance import judge as judge_module
from provenance.config import Config
from provenance.identify import StatKey
from provenance.judge import Judge, LedgerHashMemory
from provenance.model import Classification, Evidence, Recollection, Remembered, Signal, Verdict, Zone
from provenance.pipeline import Inspector
from provenance.policy.rules import UNDECIDED_RULES


class LooksLike:
    """A stand-in for content memory: "this file looks like an AI original" for names with `copy`."""

    said = Recollection("content", "looks like working/gen/matte.jpg (perceptual match)")

    def __init__(self) -> None:
        self.calls: list[int] = []

    def recall_many(self, verdicts: Sequence[Verdict]) -> list[Remembered]:
        self.calls.append(len(verdicts))
        match = Evidence("content", "fingerprint", "matches matte.jpg", Signal.AI_GENERATED,
                         generator="Runway")
        hit = Remembered(evidence=(match,), recollections=(self.said,))
        return [hit if "copy" in v.path else Remembered() for v in verdicts]


class Broken:
    def recall_many(self, verdicts: Sequence[Verdict]) -> list[Remembered]:
        raise RuntimeError("memory store is down")


def files(tmp_path: Path, *names: str) -> list[Path]:
    out = []
    for i, name in enumerate(names):
        p = tmp_path / name
        p.write_bytes(b"plain bytes %d" % i * 50)
        out.append(p)
    return out


def test_a_memory_source_makes_a_verdict_ai_and_the_verdict_says_so(tmp_path: Path) -> None:
    copy, other = files(tmp_path, "copy.bin", "other.bin")
    memory = LooksLike()
    judge = Judge(Config(base_dir=tmp_path), None, memories=[memory])
    with Inspector(readers=()) as inspector:
        remembered, plain = judge.judge_many(inspector, [(copy, Zone.FINAL), (other, Zone.FINAL)])
    assert memory.calls == [2]  # asked once for the batch
    assert remembered.verdict.classification is Classification.AI_GENERATED
    assert remembered.verdict.generator == "Runway"
    assert remembered.verdict.recollections == (LooksLike.said,)
    assert remembered.verdict.to_dict()["memory"] == [LooksLike.said.to_dict()]
    assert "temporary-material" in [f.rule for f in remembered.judgement.blocking]
    assert plain.verdict.classification is Classification.UNKNOWN
    assert plain.verdict.recollections == () and plain.judgement.open == []


class _Ledger:
    """Just the ledger's hash memory (`HashRecall`), as the real Ledger answers it."""

    def __init__(self, remembered: Mapping[str, Remembered]) -> None:
        self.remembered = remembered
        self.asked: list[list[str]] = []

    def recall_many(self, hashes: Sequence[str]) -> Mapping[str, Remembered]:
        self.asked.append(list(hashes))
        return {h: self.remembered[h] for h in hashes if h in self.remembered}

    def remembered_hashes(self) -> set[str]:
        return set(self.remembered)


def test_ledger_hash_memory_says_what_the_ledger_remembers(tmp_path: Path) -> None:
    a, b = files(tmp_path, "a.bin", "b.bin")
    with Inspector(readers=()) as inspector:
        read = Judge(Config(base_dir=tmp_path)).read(inspector, [a, b])
    sha_a = read[0].sha256 or ""
    ledger = _Ledger({sha_a: Remembered(evidence=(Evidence(
        "ledger", "earlier verdict", "ai_edited (tagged at working/gen/matte.jpg, 2026-11-21)",
        Signal.AI_EDITED),))})
    memory = LedgerHashMemory(ledger, prefetch=True)
    got = memory.recall_many(read)
    assert ledger.asked == [[sha_a]]  # prefetched: only hashes it remembers are recalled
    assert [r.statement for r in got[0].recollections] == [
        "the ledger remembers these bytes as ai_edited (tagged at working/gen/matte.jpg, 2026-11-21)"]
    assert got[1].empty


class _FailsOnBatchesAndBad(Inspector):
    def inspect_many(self, paths: Sequence[str | os.PathLike[str]],
                     known_hashes: Mapping[StatKey, str] | None = None) -> list[Verdict]:
        if len(paths) > 1 or any("bad" in str(p) for p in paths):
            raise RuntimeError("reader blew up")
        return super().inspect_many(paths, known_hashes)


def test_a_batch_that_fails_is_read_file_by_file_and_only_the_bad_file_is_undecided(tmp_path: Path) -> None:
    good, bad, also = files(tmp_path, "good.bin", "bad.bin", "also.bin")
    judge = Judge(Config(base_dir=tmp_path))
    with _FailsOnBatchesAndBad(readers=()) as inspector:
        decisions = judge.judge_many(inspector, [(p, Zone.FINAL) for p in (good, bad, also)])
    assert [bool(d.judgement.undecided) for d in decisions] == [False, True, False]
    assert decisions[0].verdict.sha256 is not None and decisions[2].verdict.sha256 is not None
    assert decisions[1].verdict.errors == ("internal error: RuntimeError: reader blew up",)
    assert {f.rule for f in decisions[1].judgement.undecided} <= UNDECIDED_RULES


def test_a_failing_memory_makes_the_batch_undecided_not_clear(tmp_path: Path) -> None:
    a, b = files(tmp_path, "a.bin", "b.bin")
    judge = Judge(Config(base_dir=tmp_path), None, memories=[Broken()])
    with Inspector(readers=()) as inspector:
        decisions = judge.judge_many(inspector, [(a, Zone.FINAL), (b, Zone.WORKING)])
    for d in decisions:
        assert d.judgement.undecided, d
        assert "memory store is down" in d.judgement.undecided[0].message


def test_a_policy_crash_is_an_undecided_decision_with_its_reason(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    [a] = files(tmp_path, "a.bin")

    def crash(*_args: object, **_kwargs: object) -> None:
        raise ValueError("rule table corrupt")

    monkeypatch.setattr(judge_module, "judge", crash)
    with Inspector(readers=()) as inspector:
        [d] = Judge(Config(base_dir=tmp_path)).judge_many(inspector, [(a, Zone.FINAL)])
    assert d.failure == "could not decide: internal error: ValueError: rule table corrupt"
    assert [f.rule for f in d.judgement.undecided] == ["rule-error"]
