"""The state tables are derived from the event chain, and an edit to one of them is caught:
`ledger verify` replays the events and names every differing row (table, key, column), and
what the gate recalls about a hash comes from the events, so `UPDATE assets SET remembered=NULL`
erases nothing. Each attack is a real SQL UPDATE on a real ledger, SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from provenance.approvals.keys import new_keypair
from provenance.cli import main
from provenance.ledger import Ledger
from provenance.ledger.migrations import LATEST
from provenance.model import Classification, Declarations, Risk, Signal, Zone
from tests.ledger.helpers import ai_verdict, finding, plain_verdict, sha

Capsys = pytest.CaptureFixture[str]
APPROVED = sha("approved plate")
GENERATED = sha("generated matte")
TAGGED_BEFORE, TAGGED_AFTER = sha("untagged original"), sha("tagged copy")
DECL = Declarations(tool="Midjourney", tool_version="7", purpose="previs",
                    risks=frozenset({Risk.TALENT_LIKENESS}))


def _envelope(n: int) -> dict:
    return {"payloadType": "application/vnd.in-toto+json", "payload": f"e30{n}",
            "signatures": [{"keyid": "k", "sig": f"sig{n}"}]}


def _populate(ledger: Ledger) -> None:
    """One of every kind of write the ledger makes."""
    ledger.record_verdict(plain_verdict("/show/final/plate.exr", APPROVED, Classification.NOT_AI),
                          (1, 10, 100, 5, 6), Zone.FINAL)
    ledger.record_verdict(ai_verdict("/show/final/matte.exr", GENERATED), (1, 11, 100, 5, 6), Zone.FINAL)
    ledger.record_verdict(dataclasses.replace(ai_verdict("/show/work/matte.exr", GENERATED, source="ledger"),
                                              declarations=DECL), (1, 12, 100, 5, 6), Zone.WORKING)
    ledger.record_verdict(plain_verdict("/show/final/locked.mov", None), None, Zone.FINAL)
    ledger.record_verdict(plain_verdict("/show/work/gone.jpg", sha("gone")), (1, 13, 10, 5, 6), Zone.WORKING)
    ledger.record_removed("/show/work/gone.jpg")
    ledger.record_tag("/show/work/key.png", TAGGED_BEFORE, TAGGED_AFTER, Classification.AI_EDITED, DECL)
    ledger.open_finding(finding("/show/final/matte.exr", GENERATED))
    ledger.open_finding(finding("/show/final/matte.exr", GENERATED, rule="talent-likeness"))
    ledger.resolve_findings(GENERATED, ["talent-likeness"], "approved by J. Doe")
    ledger.open_finding(finding("/show/final/matte.exr", GENERATED, rule="talent-likeness"))  # again
    ledger.record_approval(_envelope(1), APPROVED, "J. Doe", ["final-deliverable"], "LEGAL-1", None)
    ledger.record_gate_decision({"schema": "provenance.gate-decision/v1", "result": "blocked",
                                 "exit_code": 1})


def _sql(ledger: Ledger, statement: str, **params: object) -> None:
    with ledger.engine.begin() as conn:
        assert conn.execute(text(statement), params).rowcount >= 1


def _verify_json(url: str, capsys: Capsys, *extra: str) -> tuple[int, dict]:
    capsys.readouterr()
    rc = main(["ledger", "verify", "--json", "--url", url, *extra])
    return rc, json.loads(capsys.readouterr().out)


def test_an_untouched_ledger_matches_its_chain(ledger_url: str, capsys: Capsys) -> None:
    with Ledger.open(ledger_url) as ledger:
        _populate(ledger)
        report, differences = ledger.audit()
    assert report.ok and differences == []
    rc, out = _verify_json(ledger_url, capsys)
    assert rc == 0 and out["ok"] and out["state_differences"] == []


def test_a_location_pointed_at_an_approved_hash_is_named(ledger_url: str, capsys: Capsys) -> None:
    with Ledger.open(ledger_url) as ledger:
        _populate(ledger)
        _sql(ledger, "UPDATE locations SET sha256 = :h WHERE path = '/show/final/matte.exr'", h=APPROVED)
        assert ledger.verify().ok  # the chain alone cannot see it
    rc, out = _verify_json(ledger_url, capsys)
    assert rc == 1 and not out["ok"]
    assert out["state_differences"] == [{"table": "locations", "key": "/show/final/matte.exr",
                                         "column": "sha256", "chain": GENERATED, "stored": APPROVED}]
    capsys.readouterr()
    assert main(["ledger", "verify", "--url", ledger_url]) == 1
    out = capsys.readouterr().out  # the result, on stdout
    assert "locations /show/final/matte.exr: column sha256" in out and APPROVED in out and GENERATED in out


@pytest.mark.parametrize("edit", [
    "UPDATE assets SET remembered = NULL, remembered_generator = NULL, remembered_from = NULL, "
    "remembered_event = NULL WHERE sha256 = :h",
    "UPDATE assets SET declared = FALSE, declarations = NULL WHERE sha256 = :h",
    "DELETE FROM assets WHERE sha256 = :h",
])
def test_erased_memory_is_still_recalled_and_named(ledger_url: str, edit: str, capsys: Capsys) -> None:
    with Ledger.open(ledger_url) as ledger:
        _populate(ledger)
        before = ledger.recall_many([GENERATED, TAGGED_BEFORE, TAGGED_AFTER])
        remembered = ledger.remembered_hashes()
        for digest in (GENERATED, TAGGED_BEFORE, TAGGED_AFTER):
            _sql(ledger, edit, h=digest)
        # What the gate recalls comes from the events: the edit erased nothing.
        assert ledger.recall_many([GENERATED, TAGGED_BEFORE, TAGGED_AFTER]) == before
        assert ledger.remembered_hashes() == remembered == {GENERATED, TAGGED_BEFORE, TAGGED_AFTER}
        [ev, note] = before[TAGGED_BEFORE].evidence
        assert ev.signal is Signal.AI_EDITED and "tagged at /show/work/key.png" in ev.value
        assert before[TAGGED_BEFORE].declarations == DECL and "talent-likeness" in note.value
        assert ledger.verify().ok
    rc, out = _verify_json(ledger_url, capsys)
    assert rc == 1
    named = {(d["table"], d["key"]) for d in out["state_differences"]}
    assert named == {("assets", GENERATED), ("assets", TAGGED_BEFORE), ("assets", TAGGED_AFTER)}


def test_memory_from_the_events_matches_the_assets_columns(ledger: Ledger) -> None:
    _populate(ledger)
    [recalled] = ledger.recall_many([GENERATED]).values()
    ev, note = recalled.evidence
    # the second verdict's AI evidence came from the ledger itself: it must not become memory
    assert ev.signal is Signal.AI_GENERATED and "sidecar evidence at /show/final/matte.exr" in ev.value
    assert recalled.declarations == DECL and note.signal is Signal.INFO
    assert ledger.recall_many([APPROVED, sha("never seen")]) == {}
    with ledger.engine.connect() as conn:
        row = conn.execute(text("SELECT remembered_from FROM assets WHERE sha256 = :h"),
                           {"h": GENERATED}).one()
    assert row.remembered_from in ev.value


@pytest.mark.parametrize(("edit", "table", "column"), [
    ("UPDATE findings SET status = 'resolved', open_key = NULL, resolution = 'ok' "
     "WHERE status = 'open'", "findings", "status"),
    ("UPDATE approvals SET scopes = '[\"final-deliverable\", \"talent-likeness\"]'", "approvals", "scopes"),
    ("UPDATE gate_decisions SET result = 'clear'", "gate_decisions", "result"),
    ("UPDATE locations SET classification = 'not_ai' WHERE path = '/show/final/matte.exr'",
     "locations", "classification"),
    ("UPDATE assets SET classification = 'not_ai' WHERE classification = 'ai_generated'",
     "assets", "classification"),
])
def test_every_state_table_is_checked(ledger_url: str, edit: str, table: str, column: str,
                                      capsys: Capsys) -> None:
    with Ledger.open(ledger_url) as ledger:
        _populate(ledger)
        _sql(ledger, edit)
    rc, out = _verify_json(ledger_url, capsys)
    assert rc == 1
    found = {(d["table"], d["column"]) for d in out["state_differences"]}
    assert (table, column) in found and {t for t, _ in found} == {table}


def test_rows_the_chain_never_made_and_rows_it_made_that_are_gone(ledger_url: str, capsys: Capsys) -> None:
    with Ledger.open(ledger_url) as ledger:
        _populate(ledger)
        _sql(ledger, "DELETE FROM locations WHERE path = '/show/final/matte.exr'")
        _sql(ledger, "INSERT INTO locations (path, sha256, zone, classification, seen_at, event_id) "
                     "VALUES ('/show/final/forged.exr', :h, 'final', 'not_ai', '2026-01-01', 1)", h=APPROVED)
    rc, out = _verify_json(ledger_url, capsys)
    assert rc == 1
    assert sorted((d["key"], d["column"], d["chain"], d["stored"]) for d in out["state_differences"]) == [
        ("/show/final/forged.exr", None, "no such row", "this row"),
        ("/show/final/matte.exr", None, "this row", "no such row")]


def test_a_checkpoint_does_not_hide_an_edited_state_row(ledger_url: str, tmp_path: Path,
                                                        capsys: Capsys) -> None:
    key = tmp_path / "keys" / "checkpoint.key"
    pub, _ = new_keypair(key)
    cp = tmp_path / "cp.json"
    with Ledger.open(ledger_url) as ledger:
        _populate(ledger)
    assert main(["ledger", "checkpoint", "--url", ledger_url, "--key", str(key), "--out", str(cp)]) == 0
    with Ledger.open(ledger_url) as ledger:
        _sql(ledger, "UPDATE assets SET remembered = NULL WHERE sha256 = :h", h=GENERATED)
    rc, out = _verify_json(ledger_url, capsys, "--checkpoint", str(cp), "--public-key", str(pub))
    assert rc == 1 and out["checkpoints"][0]["holds"]
    assert [(d["table"], d["key"], d["column"]) for d in out["state_differences"]] == [
        ("assets", GENERATED, "remembered")]


def test_a_v4_ledger_gains_the_teaching_index_and_recalls_the_same(ledger_url: str) -> None:
    with Ledger.open(ledger_url) as ledger:
        _populate(ledger)
        before = ledger.recall_many([GENERATED, TAGGED_BEFORE, TAGGED_AFTER, APPROVED])
        with ledger.engine.begin() as conn:  # make it look like a version-4 ledger
            conn.execute(text("DROP INDEX ix_events_teaching"))
            conn.execute(text("DELETE FROM schema_version WHERE version > 4"))
    with Ledger.open(ledger_url) as ledger:
        assert ledger.schema_version == LATEST
        assert "ix_events_teaching" in {i["name"] for i in inspect(ledger.engine).get_indexes("events")}
        assert ledger.recall_many([GENERATED, TAGGED_BEFORE, TAGGED_AFTER, APPROVED]) == before
        assert set(before) == ledger.remembered_hashes() == {GENERATED, TAGGED_BEFORE, TAGGED_AFTER}


def test_the_disclosure_list_comes_from_the_chain_not_the_tables(ledger_url: str) -> None:
    """What the studio is told (`report --disclosure` reads `ai_assets`) survives edits that
    would hide an AI asset or the final-zone path that makes it need an approval."""
    with Ledger.open(ledger_url) as ledger:
        _populate(ledger)
        before = ledger.ai_assets()
        _sql(ledger, "UPDATE assets SET classification = 'not_ai', declarations = NULL")
        _sql(ledger, "UPDATE locations SET path = '/show/work/hidden.exr' "
                     "WHERE path = '/show/final/matte.exr'")
        after = ledger.ai_assets()
    assert after == before
    by_hash = {a.sha256: a for a in after}
    assert set(by_hash) == {GENERATED, TAGGED_BEFORE, TAGGED_AFTER}
    assert by_hash[GENERATED].paths == ("/show/final/matte.exr", "/show/work/matte.exr")
    assert by_hash[GENERATED].declarations == DECL


def test_no_disclosure_from_a_broken_chain(ledger_url: str) -> None:
    from provenance.errors import LedgerError

    with Ledger.open(ledger_url) as ledger:
        _populate(ledger)
        _sql(ledger, "UPDATE events SET path = '/show/work/elsewhere.exr' WHERE id = 2")
        with pytest.raises(LedgerError, match="does not verify"):
            ledger.ai_assets()
