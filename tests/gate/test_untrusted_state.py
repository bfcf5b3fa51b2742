"""Issue 10 item 4: no edited row of derived state decides a delivery.

Whoever can write the show (every artist, to record tags) can edit the show's ledger and
anything else inside the show tree. The attacks are real SQL on the real files: a forged
cached verdict, a location pointed at an approved file's hash, an asset's AI memory erased.
The gate must still block, and `ledger verify` must name the edited row.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest

from provenance.cli import main
from provenance.gate.cache import BODY, KEY_FILE, MAGIC, cache_file
from provenance.identify import sha256_file
from provenance.model import Scope
from provenance.private_state import state_home
from tests.gate.conftest import REPO, Show, ai_png, asset, cache_blob, cache_path, plain_png, write_cache_blob

Capsys = pytest.CaptureFixture[str]


def _ledger_db(show: Show) -> Path:
    return show.root / ".provenance" / "ledger.db"


def _sql(db: Path, statement: str, *params: object) -> None:
    with sqlite3.connect(db) as conn:
        assert conn.execute(statement, params).rowcount >= 1


def _clear_verdict(path: Path, sha256: str) -> str:
    return json.dumps({"path": str(path), "sha256": sha256, "format": "png", "size": path.stat().st_size,
                       "classification": "not_ai", "evidence": [], "errors": []})


def _forged(show: Show, gen: Path) -> tuple[str, str, dict[tuple[int, int], tuple[object, ...]], list[str]]:
    """The show's cache with gen.png's row saying "not AI" (its verdict, as the gate stores it)."""
    who, readers, rows, bodies = cache_blob(show.root)
    st = gen.stat()
    row = rows[st.st_dev, st.st_ino]
    verdict = json.loads(bodies[int(str(row[BODY]))])
    assert verdict["classification"] == "ai_generated"
    verdict.update(classification="not_ai", evidence=[], generator=None)
    rows[st.st_dev, st.st_ino] = (*row[:BODY], len(bodies), None)
    return who, readers, rows, [*bodies, json.dumps(verdict)]


def test_an_edited_cached_verdict_is_a_miss(show: Show, capsys: Capsys) -> None:
    gen = ai_png(show.pkg / "gen.png")
    rc, _, _ = show.gate(show.pkg, capsys=capsys)
    assert rc == 1
    db = cache_file(show.root)
    assert db.parent.parent == state_home() and not db.is_relative_to(show.root)
    # The cached row says "not AI" now; the blob's MAC still covers what the gate wrote.
    old_mac = db.read_bytes()[len(MAGIC):len(MAGIC) + 32]
    write_cache_blob(show.root, *_forged(show, gen), mac=old_mac)
    rc, report, _ = show.gate(show.pkg, capsys=capsys)
    assert rc == 1 and asset(report, "gen.png")["classification"] == "ai_generated"


def test_the_forgery_itself_would_pass_under_the_real_key(show: Show, capsys: Capsys) -> None:
    """The control for the tests around it: the same forged blob MACed under the gate's own key
    is believed, so a gate that stopped checking the MAC (or the key) would fail them."""
    gen = ai_png(show.pkg / "gen.png")
    assert show.gate(show.pkg, capsys=capsys)[0] == 1
    write_cache_blob(show.root, *_forged(show, gen))
    rc, report, _ = show.gate(show.pkg, capsys=capsys)
    assert rc == 0 and asset(report, "gen.png")["status"] == "clear"


def test_a_blob_maced_under_another_key_is_a_miss(show: Show, capsys: Capsys) -> None:
    gen = ai_png(show.pkg / "gen.png")
    assert show.gate(show.pkg, capsys=capsys)[0] == 1
    write_cache_blob(show.root, *_forged(show, gen), key=b"k" * 32)
    rc, report, _ = show.gate(show.pkg, capsys=capsys)
    assert rc == 1 and asset(report, "gen.png")["status"] == "blocked"


def test_a_cache_planted_in_the_show_tree_is_never_read(show: Show, capsys: Capsys) -> None:
    """Where the cache used to live: `.provenance/gate-cache.db`, writable by every artist."""
    gen = ai_png(show.pkg / "gen.png")
    st = gen.stat()
    planted = show.root / ".provenance" / "gate-cache.db"
    with sqlite3.connect(planted) as conn:
        for table in ("verdicts", "verdicts_v2"):
            conn.execute(f"CREATE TABLE {table} (dev INTEGER, inode INTEGER, size INTEGER, mtime_ns INTEGER, "
                         "ctime_ns INTEGER, settings TEXT, aux TEXT, verdict TEXT, mac TEXT, "
                         "PRIMARY KEY (dev, inode, settings))")
        from provenance.evidence import readers_digest
        from provenance.evidence.registry import DEFAULT_READERS

        settings = readers_digest(show.config.reader_settings(), DEFAULT_READERS)
        aux = repr([None] * 4)
        conn.executemany("INSERT INTO verdicts VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL)", [
            (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns, settings, aux,
             _clear_verdict(gen, sha256_file(gen)))])
    rc, report, _ = show.gate(show.pkg, capsys=capsys)
    assert rc == 1 and asset(report, "gen.png")["classification"] == "ai_generated"


@pytest.mark.parametrize("breach", ["folder-open-to-others", "key-readable-by-others", "key-is-a-symlink"])
def test_without_a_private_state_folder_every_file_is_read(show: Show, breach: str, capsys: Capsys,
                                                            tmp_path: Path) -> None:
    gen = ai_png(show.pkg / "gen.png")
    assert show.gate(show.pkg, capsys=capsys)[0] == 1  # makes the folder, the key and a cached row
    home, key = state_home(), state_home() / KEY_FILE
    if breach == "folder-open-to-others":
        home.chmod(0o777)
    elif breach == "key-readable-by-others":
        key.chmod(0o644)
    else:
        other = tmp_path / "planted.key"
        other.write_bytes(b"k" * 32)
        other.chmod(0o600)
        key.unlink()
        key.symlink_to(other)
    # With the state folder untrusted, a forged blob in it must not be read either, even one
    # MACed under the key that is there now.
    forged = _forged(show, gen)
    write_cache_blob(show.root, *forged, key=key.read_bytes())
    rc, report, _ = show.gate(show.pkg, capsys=capsys)
    assert rc == 1 and asset(report, "gen.png")["classification"] == "ai_generated"
    assert cache_path(show.root).exists()


def test_a_location_pointed_at_an_approved_hash_does_not_approve(show: Show, capsys: Capsys) -> None:
    """`UPDATE locations SET sha256=<an approved file's hash>`: the gate takes identity only from
    its own cache or by hashing, never from the ledger's locations table."""
    approved = plain_png(show.pkg / "approved_plate.png", seed=3)
    show.add_approver("Legal", {Scope.FINAL_DELIVERABLE})
    show.approve(approved, "Legal", {Scope.FINAL_DELIVERABLE})
    gen = ai_png(show.pkg / "gen.png")
    # The watcher (here: scan) recorded both files with their stat keys.
    assert main(["scan", "--config", str(show.config_file), str(show.pkg)]) in (0, 1)
    _sql(_ledger_db(show), "UPDATE locations SET sha256 = ? WHERE path LIKE '%gen.png'",
         sha256_file(approved))
    rc, report, _ = show.gate(show.pkg, capsys=capsys)
    entry = asset(report, "gen.png")
    assert rc == 1 and entry["status"] == "blocked" and entry["sha256"] == sha256_file(gen)
    capsys.readouterr()
    assert main(["ledger", "verify", "--config", str(show.config_file)]) == 1
    out = capsys.readouterr().out  # the result, on stdout
    assert "locations" in out and "gen.png: column sha256" in out


def test_erased_memory_still_blocks_a_copy_that_lost_its_tag(show: Show, capsys: Capsys) -> None:
    work = show.root / "working"
    work.mkdir()
    plate = work / "digi_double.exr"
    shutil.copy(REPO / "sample_assets/show/working/plates/plate.exr", plate)
    assert main(["tag", "--config", str(show.config_file), "--generated", "--tool", "Runway",
                 "--talent-likeness", "--sidecar-only", str(plate)]) == 0
    shutil.copy(plate, show.pkg / "digi_double_v002.exr")  # the sidecar stays behind
    _sql(_ledger_db(show), "UPDATE assets SET remembered = NULL, remembered_from = NULL, "
                           "remembered_generator = NULL, declared = 0, declarations = NULL")
    rc, report, _ = show.gate(show.pkg, capsys=capsys)
    entry = asset(report, "digi_double_v002.exr")
    assert rc == 1 and entry["classification"] == "ai_generated"
    assert {f["rule"] for f in entry["findings"]} >= {"temporary-material", "talent-likeness"}
    capsys.readouterr()
    assert main(["ledger", "verify", "--config", str(show.config_file)]) == 1
    assert "assets" in capsys.readouterr().out


def test_a_cache_that_cannot_be_written_does_not_fail_the_run(show: Show, capsys: Capsys) -> None:
    ai_png(show.pkg / "gen.png")
    plain_png(show.pkg / "clean.png")
    assert show.gate(show.pkg, capsys=capsys)[0] == 1
    ai_png(show.pkg / "gen2.png", seed=2)  # a new file: this run has a row to write
    folder = cache_path(show.root).parent
    folder.chmod(0o500)  # no new file can be made there (root ignores modes: then it is written)
    try:
        rc, report, _ = show.gate(show.pkg, capsys=capsys)
    finally:
        folder.chmod(0o700)
    assert rc == 1 and asset(report, "gen2.png")["status"] == "blocked"

