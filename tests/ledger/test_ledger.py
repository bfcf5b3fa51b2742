"""The ledger's behaviour, on SQLite and on a real PostgreSQL server (same tests, both backends)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from sqlalchemy import inspect, text

from provenance.config import Config
from provenance.errors import LedgerError
from provenance.judge import Judge
from provenance.ledger import Ledger
from provenance.ledger.migrations import LATEST
from provenance.model import Classification, Declarations, Finding, Risk, Signal, Zone
from provenance.pipeline import Inspector
from tests.core.test_model import assert_fully_populated
from tests.core.test_model import findings as FINDINGS
from tests.ledger.helpers import ai_verdict, finding, plain_verdict, sha

KEY = (2049, 1234, 100, 1_700_000_000_123_456_789, 1_700_000_000_987_654_321)


def test_record_verdict_is_idempotent_across_reopen(ledger_url: str) -> None:
    v = ai_verdict("/show/final/plate.exr", sha("plate"))
    with Ledger.open(ledger_url) as first:
        assert first.record_verdict(v, KEY, Zone.FINAL) is True
        assert first.record_verdict(v, KEY, Zone.FINAL) is False
    with Ledger.open(ledger_url) as again:  # a daemon restart re-reconciles the same file
        assert again.record_verdict(v, KEY, Zone.FINAL) is False
        assert again.stats()["events"] == 1
        # different bytes (or a different stat key) at the same path is news
        assert again.record_verdict(v, (*KEY[:3], KEY[3] + 1, KEY[4]), Zone.FINAL) is True
        assert again.stats()["events"] == 2
        assert again.verify().ok


def test_location_known_hash_and_removal(ledger: Ledger) -> None:
    digest = sha("a")
    ledger.record_verdict(plain_verdict("/show/a.jpg", digest, Classification.NOT_AI), KEY, Zone.WORKING)
    loc = ledger.location("/show/a.jpg")
    assert loc is not None
    assert (loc.sha256, loc.stat_key, loc.zone, loc.classification, loc.host) == (
        digest, KEY, Zone.WORKING, Classification.NOT_AI, "test-host")
    # mtime_ns/ctime_ns beyond 2**53 must survive both backends exactly
    assert ledger.known_hash(KEY) == digest
    assert ledger.known_hash((*KEY[:4], KEY[4] + 1)) is None
    assert [x.path for x in ledger.locations()] == ["/show/a.jpg"]
    ledger.record_removed("/show/a.jpg")
    ledger.record_removed("/show/a.jpg")  # already gone: nothing more to record
    assert ledger.location("/show/a.jpg") is None
    assert ledger.known_hash(KEY) is None
    stats = ledger.stats()
    assert (stats["events"], stats["locations"], stats["assets"]) == (2, 0, 1)


def test_unreadable_file_is_recorded_once(ledger: Ledger) -> None:
    v = plain_verdict("/show/final/locked.mov", None)
    assert ledger.record_verdict(v, None, Zone.FINAL) is True
    assert ledger.record_verdict(v, None, Zone.FINAL) is False
    loc = ledger.location("/show/final/locked.mov")
    assert loc is not None and loc.sha256 is None and loc.stat_key is None
    assert ledger.stats()["unreadable_locations"] == 1


def test_sidecar_tagged_copy_without_sidecar_stays_ai(ledger: Ledger, tmp_path: Path) -> None:
    """The ledger remembers: a byte-identical copy that lost its sidecar is still AI."""
    original = tmp_path / "work" / "plate.exr"
    copy = tmp_path / "final" / "plate.exr"
    original.parent.mkdir()
    copy.parent.mkdir()
    original.write_bytes(b"v/1\x01" + b"generated pixels" * 64)
    copy.write_bytes(original.read_bytes())
    judge = Judge(Config(base_dir=tmp_path), ledger)
    with Inspector(readers=()) as inspector:
        [seen] = judge.remember(judge.read(inspector, [original]))
    assert seen.classification is Classification.UNKNOWN  # no readers, no memory yet
    # what the sidecar reader said about the original
    ledger.record_verdict(ai_verdict(str(original), seen.sha256 or "", source="sidecar", generator="Runway"),
                          None, Zone.WORKING)
    with Inspector(readers=()) as inspector:
        [verdict] = judge.remember(judge.read(inspector, [copy]))
    assert verdict.classification is Classification.AI_GENERATED
    [said] = [r for r in verdict.recollections if r.source == "ledger"]  # said to come from memory
    assert said.source == "ledger"
    assert said.statement.startswith("the ledger remembers these bytes as ai_generated")
    assert str(original) in said.statement
    assert verdict.generator == "Runway"
    [ev] = [e for e in verdict.evidence if e.source == "ledger"]  # beside content memory's own note
    assert (ev.source, ev.field, ev.signal) == ("ledger", "earlier verdict", Signal.AI_GENERATED)
    assert str(original) in ev.value
    # the copy's verdict rests on the ledger alone: it must not become the remembered source
    ledger.record_verdict(verdict, None, Zone.FINAL)
    [again] = ledger.recall_many([verdict.sha256 or ""])[verdict.sha256 or ""].evidence
    assert str(original) in again.value and str(copy) not in again.value


def test_recall_is_empty_for_non_ai_and_unknown_hashes(ledger: Ledger) -> None:
    ledger.record_verdict(plain_verdict("/show/cam.jpg", sha("cam"), Classification.NOT_AI), KEY,
                          Zone.WORKING)
    assert ledger.recall_many([sha("cam"), sha("never seen")]) == {}
    assert ledger.remembered_hashes() == set()


def test_tag_remembers_both_the_tagged_and_the_original_bytes(ledger: Ledger) -> None:
    decl = Declarations(tool="Midjourney", tool_version="7", purpose="previs",
                        risks=frozenset({Risk.TALENT_LIKENESS}))
    ledger.record_tag("/show/work/key.png", sha("before"), sha("after"), Classification.AI_EDITED, decl)
    recalled = ledger.recall_many([sha("before"), sha("after")])
    assert set(recalled) == ledger.remembered_hashes() == {sha("before"), sha("after")}
    for digest in (sha("before"), sha("after")):
        ev, note = recalled[digest].evidence
        assert ev.signal is Signal.AI_EDITED and ev.generator == "Midjourney"
        assert note.signal is Signal.INFO and "talent-likeness" in note.value
        assert recalled[digest].declarations == decl  # a copy without the tag keeps its risks
    [summary] = [a for a in ledger.ai_assets() if a.sha256 == sha("after")]
    assert summary.declarations == decl
    assert summary.classification is Classification.AI_EDITED


def test_ai_assets_lists_paths_of_latest_ai_verdicts(ledger: Ledger) -> None:
    digest = sha("gen")
    ledger.record_verdict(ai_verdict("/show/work/gen.exr", digest), (1, 1, 100, 1, 1), Zone.WORKING)
    ledger.record_verdict(ai_verdict("/show/final/gen.exr", digest), (1, 2, 100, 1, 1), Zone.FINAL)
    ledger.record_verdict(plain_verdict("/show/cam.jpg", sha("cam"), Classification.NOT_AI), KEY,
                          Zone.WORKING)
    [summary] = ledger.ai_assets()
    assert summary.sha256 == digest
    assert summary.paths == ("/show/final/gen.exr", "/show/work/gen.exr")
    assert summary.generator == "Firefly"
    assert ledger.stats()["ai_assets"] == 1


def test_open_finding_is_idempotent_and_resolvable(ledger_url: str) -> None:
    f = finding("/show/final/gen.exr", sha("gen"))
    other_rule = finding("/show/final/gen.exr", sha("gen"), rule="talent-likeness")
    with Ledger.open(ledger_url) as ledger:
        assert ledger.open_finding(f) is True
        assert ledger.open_finding(f) is False
        assert ledger.open_finding(other_rule) is True
    with Ledger.open(ledger_url) as ledger:
        assert ledger.open_finding(f) is False  # still open after a restart
        assert ledger.open_findings() == [f, other_rule]
        assert ledger.resolve_findings(sha("gen"), ["temporary-material"], "approved by legal") == 1
        assert ledger.open_findings() == [other_rule]
        assert ledger.resolve_findings(sha("gen"), ["temporary-material"], "again") == 0
        assert ledger.open_finding(f) is True  # a resolved finding can be raised again
        assert ledger.resolve_findings(sha("gen"), None, "file deleted") == 2
        assert ledger.open_findings() == []
        stats = ledger.stats()
        assert (stats["open_findings"], stats["resolved_findings"]) == (0, 3)
        assert ledger.verify().ok


def test_approvals_are_kept_verbatim_and_once(ledger: Ledger) -> None:
    envelope = {"payloadType": "application/vnd.in-toto+json", "payload": "eyJ4IjoxfQ==",
                "signatures": [{"keyid": "k1", "sig": "c2ln"}]}
    ledger.record_approval(envelope, sha("gen"), "Ana Legal", ["final-deliverable"], "LEGAL-12", None)
    ledger.record_approval(envelope, sha("gen"), "Ana Legal", ["final-deliverable"], "LEGAL-12", None)
    assert ledger.approvals_for(sha("gen")) == [envelope]
    assert ledger.approvals_for(sha("other")) == []
    assert ledger.stats()["approvals"] == 1


def test_gate_decisions_get_ids(ledger: Ledger) -> None:
    first = ledger.record_gate_decision({"result": "blocked", "files": 3})
    second = ledger.record_gate_decision({"result": "clear", "files": 3})
    assert second > first
    assert ledger.stats()["gate_decisions"] == 2


def test_reopen_does_not_migrate_twice_and_newer_schema_is_refused(ledger_url: str) -> None:
    with Ledger.open(ledger_url) as ledger:
        assert ledger.schema_version == LATEST
        with ledger.engine.begin() as conn:
            assert conn.execute(text("SELECT count(*) FROM schema_version")).scalar_one() == LATEST
            conn.execute(text("INSERT INTO schema_version (version, applied_at) VALUES (99, 'x')"))
    with pytest.raises(LedgerError, match="newer than this provenance"):
        Ledger.open(ledger_url)


def test_record_verdicts_batches_in_one_transaction(ledger: Ledger) -> None:
    a = ai_verdict("/show/final/a.exr", sha("a"))
    b = plain_verdict("/show/b.jpg", sha("b"), Classification.NOT_AI)
    assert ledger.record_verdicts([(a, (1, 1, 100, 1, 1), Zone.FINAL), (b, KEY, Zone.WORKING),
                                   (a, (1, 1, 100, 1, 1), Zone.FINAL)]) == [True, True, False]
    assert ledger.record_verdicts([(a, (1, 1, 100, 1, 1), Zone.FINAL)]) == [False]
    assert ledger.stats()["events"] == 2 and ledger.verify().ok
    # all or nothing: a bad item rolls back the whole batch
    with pytest.raises(ValueError):
        ledger.record_verdicts([(ai_verdict("/show/c.exr", sha("c")), None, Zone.WORKING),
                                (b, ("not", "a", "key", 0, 0), Zone.WORKING)])  # type: ignore[list-item]
    assert ledger.location("/show/c.exr") is None
    assert ledger.stats()["events"] == 2 and ledger.verify().ok


def test_findings_by_path_and_resolving_one_path(ledger: Ledger) -> None:
    digest = sha("gen")
    at_a, at_b = finding("/show/final/a.exr", digest), finding("/show/final/b.exr", digest)
    ledger.open_finding(at_a)
    ledger.open_finding(at_b)
    assert ledger.open_findings_at("/show/final/a.exr") == [at_a]
    # the copy at a.exr was deleted: only its finding closes, b.exr's stays open
    assert ledger.resolve_findings(digest, None, "file no longer at this path", path="/show/final/a.exr") == 1
    assert ledger.open_findings() == [at_b]


def test_older_schema_is_migrated_forward(ledger_url: str) -> None:
    with Ledger.open(ledger_url) as ledger:
        ledger.record_verdict(ai_verdict("/show/final/a.exr", sha("a")), KEY, Zone.FINAL)
        with ledger.engine.begin() as conn:  # make it look like a version-1 ledger
            conn.execute(text("DROP INDEX ix_findings_path"))
            conn.execute(text("DELETE FROM schema_version WHERE version > 1"))
    with Ledger.open(ledger_url) as ledger:
        assert ledger.schema_version == LATEST
        assert "ix_findings_path" in {i["name"] for i in inspect(ledger.engine).get_indexes("findings")}
        assert ledger.verify().ok and ledger.stats()["events"] == 1


def test_declarations_alone_are_remembered(ledger: Ledger) -> None:
    """Risks declared for non-AI bytes (personal data in a camera still) travel with the hash too."""
    decl = Declarations(risks=frozenset({Risk.PERSONAL_DATA}))
    still = dataclasses.replace(plain_verdict("/show/cam/ID_card.jpg", sha("id"), Classification.NOT_AI),
                                declarations=decl)
    ledger.record_verdict(still, KEY, Zone.WORKING)
    assert ledger.remembered_hashes() == {sha("id")}
    [note] = ledger.recall_many([sha("id")])[sha("id")].evidence
    assert note.signal is Signal.INFO
    assert ledger.recall_many([sha("id")])[sha("id")].declarations == decl


def test_v2_ledger_gains_the_declared_flag_from_its_history(ledger_url: str) -> None:
    decl = Declarations(tool="Runway", risks=frozenset({Risk.TALENT_LIKENESS}))
    with Ledger.open(ledger_url) as ledger:
        ledger.record_verdict(dataclasses.replace(ai_verdict("/show/w/a.exr", sha("a")), declarations=decl),
                              KEY, Zone.WORKING)
        ledger.record_verdict(plain_verdict("/show/w/b.jpg", sha("b"), Classification.NOT_AI), KEY,
                              Zone.WORKING)
        with ledger.engine.begin() as conn:  # make it look like a version-2 ledger
            conn.execute(text("ALTER TABLE assets DROP COLUMN declared"))
            conn.execute(text("DELETE FROM schema_version WHERE version > 2"))
    with Ledger.open(ledger_url) as ledger:
        assert ledger.schema_version == LATEST
        assert ledger.remembered_hashes() == {sha("a")}
        assert ledger.recall_many([sha("a")])[sha("a")].declarations == decl
        assert ledger.verify().ok


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=FINDINGS)
def test_a_finding_comes_back_from_the_ledger_exactly_as_it_went_in(value: Finding) -> None:
    """Through the findings table and back (Finding.to_dict in, Finding.from_dict out): a field
    added to Finding that the ledger did not keep fails here instead of reading as its default."""
    assert_fully_populated(value)
    with Ledger.open("sqlite://") as ledger:
        assert ledger.open_finding(value)
        assert ledger.open_findings_at(value.path) == [value]
        assert ledger.audit()[1] == []  # and the replay of the chain derives the same row
