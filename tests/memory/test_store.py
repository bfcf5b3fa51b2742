"""The fingerprints table: schema version 6, on SQLite and a real PostgreSQL server."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from provenance.errors import LedgerError
from provenance.fingerprint import Fingerprint, FrameHash, Kind
from provenance.ledger import Ledger
from provenance.ledger.migrations import LATEST
from provenance.memory import store
from provenance.model import Classification, Evidence, Signal, Verdict, Zone


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def ledger_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'ledger.db'}"
    return str(request.getfixturevalue("fresh_postgres_url"))


def _print(sha: str, code: int = 0xABC) -> Fingerprint:
    return Fingerprint(sha, Kind.STILL, "e" * 64, frames=(FrameHash(0.0, (code, code ^ 1)),))


def test_a_v5_ledger_gains_the_fingerprints_table_and_keeps_its_history(ledger_url: str) -> None:
    with Ledger.open(ledger_url) as ledger:
        ledger.record_removed("/show/a.exr")  # one event, so the chain has history to keep
        with ledger.engine.begin() as conn:  # make it look like a version-5 ledger
            conn.execute(text("DROP TABLE fingerprints"))
            conn.execute(text("DELETE FROM schema_version WHERE version > 5"))
    with Ledger.open(ledger_url) as ledger:
        assert ledger.schema_version == LATEST >= 6
        assert "fingerprints" in inspect(ledger.engine).get_table_names()
        assert {i["name"] for i in inspect(ledger.engine).get_indexes("fingerprints")} >= {
            "ix_fingerprints_essence"}
        assert ledger.verify().ok
        store.save(ledger, [_print("a" * 64)])
        assert store.load(ledger, ["a" * 64])["a" * 64] == _print("a" * 64)


def test_save_load_replace_and_missing(ledger_url: str) -> None:
    with Ledger.open(ledger_url) as ledger:
        big = (1 << 255) | 12345  # a full 256-bit code survives the JSON round trip
        store.save(ledger, [_print("a" * 64, big), _print("b" * 64)])
        store.save(ledger, [_print("a" * 64, 7)])  # recomputed: replaces, never duplicates
        got = store.load(ledger, ["a" * 64, "b" * 64, "c" * 64])
        assert got["a" * 64].frames[0].hashes == (7, 6)
        assert got["b" * 64] == _print("b" * 64)
        assert store.missing(ledger, ["c" * 64, "a" * 64, "b" * 64]) == ["c" * 64]


def test_a_fingerprint_of_another_version_counts_as_missing(ledger_url: str) -> None:
    with Ledger.open(ledger_url) as ledger:
        store.save(ledger, [dataclasses.replace(_print("a" * 64), version=0)])
        assert store.missing(ledger, ["a" * 64]) == ["a" * 64]
        assert store.load(ledger, ["a" * 64]) == {}


def _verdict(path: str, sha: str, cls: Classification) -> Verdict:
    evidence = (Evidence("xmp", "Iptc4xmpExt:DigitalSourceType", "trainedAlgorithmicMedia",
                         Signal.AI_GENERATED, generator="SomeGen"),) if cls.is_ai else ()
    return Verdict(path=path, sha256=sha, format="png", size=1, classification=cls, evidence=evidence,
                   generator="SomeGen" if cls.is_ai else None)


def test_originals_are_the_ai_assets_with_fingerprints_and_their_paths(ledger_url: str) -> None:
    with Ledger.open(ledger_url) as ledger:
        ledger.record_verdict(_verdict("/show/w/sky.png", "a" * 64, Classification.AI_GENERATED), None,
                              Zone.WORKING)
        ledger.record_verdict(_verdict("/show/w/cam.jpg", "b" * 64, Classification.NOT_AI), None,
                              Zone.WORKING)
        store.save(ledger, [_print("a" * 64), _print("b" * 64), _print("c" * 64)])
        [orig] = store.originals(ledger)
        assert (orig.sha256, orig.classification, orig.paths, orig.name, orig.generator) == (
            "a" * 64, "ai_generated", ("/show/w/sky.png",), "sky.png", "SomeGen")
        assert orig.first_seen


def test_an_ai_original_of_an_older_comparable_version_stays_in_memory(ledger_url: str) -> None:
    """A faster query-side hash must not forget originals: their older prints still match
    (recomputed for the file itself, never dropped from memory)."""
    with Ledger.open(ledger_url) as ledger:
        ledger.record_verdict(_verdict("/show/w/sky.png", "a" * 64, Classification.AI_GENERATED), None,
                              Zone.WORKING)
        ledger.record_verdict(_verdict("/show/w/old.png", "b" * 64, Classification.AI_GENERATED), None,
                              Zone.WORKING)
        store.save(ledger, [dataclasses.replace(_print("a" * 64), version=1),
                            dataclasses.replace(_print("b" * 64), version=0)])  # 0: not comparable
        assert store.missing(ledger, ["a" * 64]) == ["a" * 64]  # the file's own print is recomputed
        assert [(o.sha256, o.fingerprint.version) for o in store.originals(ledger)] == [("a" * 64, 1)]


def test_originals_come_from_the_events_not_the_editable_assets_table(ledger_url: str) -> None:
    with Ledger.open(ledger_url) as ledger:
        ledger.record_verdict(_verdict("/show/w/sky.png", "a" * 64, Classification.AI_GENERATED), None,
                              Zone.WORKING)
        store.save(ledger, [_print("a" * 64)])
        with ledger.engine.begin() as conn:  # someone with database access launders the asset
            conn.execute(text("UPDATE assets SET classification = 'not_ai', remembered = NULL"))
        assert [o.sha256 for o in store.originals(ledger)] == ["a" * 64]


def test_an_edited_fingerprint_row_is_not_used_and_ledger_verify_names_it(ledger_url: str) -> None:
    """Rows are authenticated by their chained events: whoever writes the table cannot make
    a row say something else (the query side recomputes it from the file)."""
    with Ledger.open(ledger_url) as ledger:
        store.save(ledger, [_print("a" * 64), _print("b" * 64)])
        _, differences = ledger.audit()
        assert differences == []
        with ledger.engine.begin() as conn:
            conn.execute(text("UPDATE fingerprints SET essence = :e WHERE sha256 = :s"),
                         {"e": "f" * 64, "s": "a" * 64})
        assert set(store.load(ledger, ["a" * 64, "b" * 64])) == {"b" * 64}
        assert store.missing(ledger, ["a" * 64, "b" * 64]) == ["a" * 64]
        report, differences = ledger.audit()
        assert report.ok and differences is not None
        assert [(d.table, d.key, d.column) for d in differences] == [("fingerprints", "a" * 64, "digest")]
        # A row no event made is not trusted either.
        with ledger.engine.begin() as conn:
            conn.execute(text("DELETE FROM fingerprints WHERE sha256 = :s"), {"s": "a" * 64})
        store.save(ledger, [_print("a" * 64)])  # recomputed: a new event, the row verifies again
        assert set(store.load(ledger, ["a" * 64])) == {"a" * 64}


@pytest.mark.parametrize("attack", ["UPDATE fingerprints SET data = :d WHERE sha256 = :s",
                                    "DELETE FROM fingerprints WHERE sha256 = :s"])
def test_an_ai_originals_edited_or_deleted_row_fails_closed(ledger_url: str, attack: str) -> None:
    """Editing or deleting an original's row would make its derivatives clear: memory refuses."""
    with Ledger.open(ledger_url) as ledger:
        ledger.record_verdict(_verdict("/show/w/sky.png", "a" * 64, Classification.AI_GENERATED), None,
                              Zone.WORKING)
        store.save(ledger, [_print("a" * 64)])
        assert [o.sha256 for o in store.originals(ledger)] == ["a" * 64]
        with ledger.engine.begin() as conn:
            params = {"s": "a" * 64}
            if ":d" in attack:
                params["d"] = '{"frames": [[0.0, ["' + "0" * 64 + '"]]], "audio": [], "notes": []}'
            conn.execute(text(attack), params)
        with pytest.raises(LedgerError, match="edited or deleted"):
            store.originals(ledger)
        _, differences = ledger.audit()
        assert differences and differences[0].table == "fingerprints"


def test_audio_hash_round_trips_and_only_audio_prints_of_version_2_are_recomputed(ledger_url: str) -> None:
    """Version 3 added the dense audio hash: a version-2 audio row lacks it and is printed again
    (while, as an AI original, its chromaprint stays in memory), but a version-2 still is what
    version 3 computes and is kept (no show decodes every picture again for an audio change)."""
    sound = Fingerprint("a" * 64, Kind.AUDIO, "e" * 64, audio=(1, 2, 3), audio_hash=(0, 7, 2**32 - 1),
                        duration=3.0)
    with Ledger.open(ledger_url) as ledger:
        ledger.record_verdict(_verdict("/show/w/fx.wav", "b" * 64, Classification.AI_GENERATED), None,
                              Zone.WORKING)
        old_sound = Fingerprint("b" * 64, Kind.AUDIO, "f" * 64, audio=(4, 5, 6), duration=3.0, version=2)
        store.save(ledger, [sound, old_sound, dataclasses.replace(_print("c" * 64), version=2)])
        got = store.load(ledger, ["a" * 64, "b" * 64, "c" * 64])
        assert got["a" * 64] == sound
        assert sorted(got) == ["a" * 64, "c" * 64]  # the version-2 sound is missing: recomputed
        assert [(o.sha256, o.fingerprint.audio) for o in store.originals(ledger)] == [("b" * 64, (4, 5, 6))]
