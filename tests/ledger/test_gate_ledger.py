"""The SQLite ledger the gate reads its memory from: it must exist, and nobody but this user or
root may be able to replace it (`ledger_location.open_for_gate`).

A ledger that starts empty, or one an artist swapped for an empty one, forgets every AI
original and tag the show learned: a copy of an AI file that lost its metadata would then
clear. Each case is judged by the real CLI over real files and real permissions, and must be
undecided (exit 3) with the file and the reason; the protected ledger decides (exit 1).
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest
from PIL import Image

from provenance.approvals.outside import check_protected
from provenance.cli import main
from provenance.config import load_config
from provenance.errors import TrustError
from provenance.identify import sha256_file
from provenance.ledger import Ledger
from provenance.model import Classification, Declarations
from tests.gate.conftest import PROVENANCE
from tests.unprivileged import PYTHON, Unprivileged


def _png(path: Path, seed: int) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (32, 32), (seed, 90, 160)).save(path)
    return path


def _show(tmp_path: Path, db: Path) -> tuple[Path, Path]:
    """A show whose config names `db` (outside the show) in [ledger] url, the ledger
    remembering an AI original whose untagged bytes were copied into final/.
    Returns (config, the copy's folder)."""
    show = tmp_path / "show"
    show.mkdir()
    cfg = show / "provenance.toml"
    cfg.write_text(f'[ledger]\nurl = "sqlite:///{db}"\n[policy]\nunknown = "pass"\n')
    original = _png(show / "working" / "gen.png", 5)
    with Ledger.open(f"sqlite:///{db}") as ledger:
        ledger.record_tag(str(original), None, sha256_file(original), Classification.AI_GENERATED,
                          Declarations(tool="Gen"))
    copy = show / "final" / "gen_copy.png"
    copy.parent.mkdir()
    shutil.copyfile(original, copy)
    return cfg, copy.parent


def _gate(cfg: Path, pkg: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    capsys.readouterr()
    rc = main(["gate", "--config", str(cfg), "--json", str(pkg)])
    out = capsys.readouterr()
    assert json.loads(out.out)["exit_code"] == rc
    return rc, out.err


@pytest.fixture
def db(tmp_path: Path) -> Path:
    """Where the operator keeps the show's ledger on this host's disk: a folder of ours."""
    folder = tmp_path / "host-disk"
    folder.mkdir(mode=0o755)
    return folder / "show.db"


def test_a_ledger_named_in_url_that_is_deleted_is_undecided_and_not_made_again(
        tmp_path: Path, db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg, pkg = _show(tmp_path, db)
    assert _gate(cfg, pkg, capsys)[0] == 1  # the ledger remembers the copy's bytes as AI
    for f in db.parent.glob("show.db*"):
        f.unlink()
    rc, err = _gate(cfg, pkg, capsys)
    assert rc == 3 and f"{db}: the show's ledger named in [ledger] url does not exist" in err, err
    assert not db.exists(), "the gate made an empty ledger"
    # A writer starts a ledger when the operator runs it: a scan creates it. It has forgotten
    # the tag, so the copy now clears: what the gate must never decide on its own.
    assert main(["scan", "--config", str(cfg), str(cfg.parent)]) == 0
    assert db.is_file() and _gate(cfg, pkg, capsys)[0] == 0


def test_a_ledger_named_in_url_that_was_never_made_is_undecided(
        tmp_path: Path, db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pkg = _png(tmp_path / "pkg" / "a.png", 3).parent
    cfg = tmp_path / "transfer" / "provenance.toml"
    cfg.parent.mkdir()
    cfg.write_text(f'[ledger]\nurl = "sqlite:///{db}"\n')
    rc, err = _gate(cfg, pkg, capsys)
    assert rc == 3 and "does not exist" in err and not db.exists()


def test_a_ledger_others_could_change_does_not_decide(
        tmp_path: Path, db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The StrictModes rule the gate's config follows, for its memory: owned by root or us,
    not group- or world-writable, nor any folder above it."""
    cfg, pkg = _show(tmp_path, db)
    db.chmod(0o664)
    rc, err = _gate(cfg, pkg, capsys)
    assert rc == 3 and f"{db}: the gate's ledger could be changed by someone else (it is writable by " \
                       "its group)" in err, err
    assert "ledger move" in err  # and what to do instead
    db.chmod(0o644)
    db.parent.chmod(0o777)  # the file is safe, but its folder lets anyone replace it
    rc, err = _gate(cfg, pkg, capsys)
    assert rc == 3 and f"its folder {db.parent} is writable by others" in err, err
    db.parent.chmod(0o755)
    os.chown(db, 65534, 65534)  # another user's file
    rc, err = _gate(cfg, pkg, capsys)
    assert rc == 3 and "owned by uid 65534" in err, err
    os.chown(db, 0, 0)
    assert _gate(cfg, pkg, capsys)[0] == 1


def test_a_write_ahead_log_others_could_change_does_not_decide(
        tmp_path: Path, db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """SQLite reads the -wal's frames as the database's pages: it is the ledger too."""
    cfg, pkg = _show(tmp_path, db)
    writer = sqlite3.connect(db)  # a daemon with the ledger open: its WAL is there
    try:
        writer.execute("PRAGMA wal_autocheckpoint=0")
        writer.execute("CREATE TABLE IF NOT EXISTS busy (x)")
        wal = db.with_name(db.name + "-wal")
        assert wal.is_file()
        wal.chmod(0o666)
        rc, err = _gate(cfg, pkg, capsys)
        assert rc == 3, err
        assert f"{wal}: the gate's ledger's -wal file could be changed by someone else" in err, err
        wal.chmod(0o644)
        assert _gate(cfg, pkg, capsys)[0] == 1
    finally:
        writer.close()


def test_a_link_in_a_folder_others_can_write_does_not_hide_who_can_change_the_ledger(
        tmp_path: Path, db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Whoever can write the folder holding a symlink can point it at a ledger of their own:
    the folders above the name count, not only those above where it leads today."""
    _, pkg = _show(tmp_path, db)
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)
    (shared / "ledger.db").symlink_to(db)
    cfg = tmp_path / "transfer" / "provenance.toml"
    cfg.parent.mkdir()
    cfg.write_text(f'[ledger]\nurl = "sqlite:///{shared / "ledger.db"}"\n[policy]\nunknown = "pass"\n')
    rc, err = _gate(cfg, pkg, capsys)
    assert rc == 3 and f"its folder {shared} is writable by others" in err, err
    shared.chmod(0o755)
    assert _gate(cfg, pkg, capsys)[0] == 1


def test_a_root_owned_sticky_folder_may_hold_the_ledger(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """As /tmp: others may create files there but not rename or remove ours."""
    if os.geteuid() != 0:
        pytest.skip("needs root to own the sticky folder")
    sticky = tmp_path / "sticky"
    sticky.mkdir()
    sticky.chmod(0o1777)
    cfg, pkg = _show(tmp_path, sticky / "show.db")
    assert _gate(cfg, pkg, capsys)[0] == 1


def test_an_artist_who_can_write_the_ledgers_folder_cannot_make_the_gate_forget(
        tmp_path: Path, unprivileged: Unprivileged, capsys: pytest.CaptureFixture[str]) -> None:
    """The attack itself: the ledger kept in a folder the artist owns (a show folder), the
    artist (a real other user) replaces it with an empty ledger of theirs. Without the check
    the gate would clear the copy of the AI original, having forgotten it."""
    folder = unprivileged.home / "show-state"
    folder.mkdir(mode=0o755)
    db = folder / "show.db"
    cfg, pkg = _show(tmp_path, db)
    os.chown(folder, 65534, 65534)
    fresh = folder / "fresh.db"
    done = unprivileged.run([PYTHON, "-c", "import os, sqlite3, sys; sqlite3.connect(sys.argv[1]).close(); "
                             "os.replace(sys.argv[1], sys.argv[2])", fresh, db], cwd=folder)
    assert done.returncode == 0, done.stderr
    assert db.stat().st_uid == 65534 and db.stat().st_size == 0  # the artist's empty ledger
    rc, err = _gate(cfg, pkg, capsys)
    assert rc == 3 and "the gate's ledger could be changed by someone else" in err, err
    # The same as the transfer host's gate would run it (a subprocess, the installed command).
    proc = subprocess.run([str(PROVENANCE), "gate", "--config", str(cfg), str(pkg)], capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 3 and "owned by uid 65534" in proc.stderr, proc.stderr


def test_this_hosts_default_ledger_is_protected_under_a_group_writable_umask(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A user-private-group umask (002) must not leave the host's state folders group-writable:
    the gate would then refuse the default ledger on every such host."""
    show = tmp_path / "show"
    original = _png(show / "working" / "gen.png", 9)
    copy = show / "final" / "gen_copy.png"
    copy.parent.mkdir()
    shutil.copyfile(original, copy)
    old = os.umask(0o002)
    try:
        assert main(["init", str(show)]) == 0  # creates this host's ledger for the show
        with Ledger.open(load_config(show / "provenance.toml").effective_ledger_url) as ledger:
            ledger.record_tag(str(original), None, sha256_file(original), Classification.AI_GENERATED,
                              Declarations(tool="Gen"))
        assert _gate(show / "provenance.toml", copy.parent, capsys)[0] == 1
    finally:
        os.umask(old)


def test_a_companion_file_gone_between_looking_and_checking_still_has_its_folders_checked(
        tmp_path: Path) -> None:
    """A -wal its last reader removed after `lexists` saw it is nothing to protect, and no reason
    to be undecided; the folder it was in is checked all the same. (A dangling link stands in for
    the race: there, and not there to stat.)"""
    folder = tmp_path / "host-disk"
    folder.mkdir(mode=0o755)
    wal = folder / "show.db-wal"
    wal.symlink_to(folder / "gone")
    check_protected([("ledger's -wal file", wal)])
    folder.chmod(0o777)
    with pytest.raises(TrustError, match=f"its folder {folder} is writable by others"):
        check_protected([("ledger's -wal file", wal)])
