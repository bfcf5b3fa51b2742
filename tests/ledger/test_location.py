"""Which ledger a show uses on this host (`ledger_location`): this host's disk by default, one
per show; an old show-folder ledger kept, never silently replaced by an empty one; no ledger
(and a refusal naming the fix) without a show config."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from PIL import Image

from provenance.cli import main
from provenance.config import load_config
from provenance.errors import LedgerError
from provenance.identify import sha256_file
from provenance.ledger import Ledger
from provenance.model import Classification, Declarations


def _png(path: Path, seed: int) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (32, 32), (seed, 90, 160)).save(path)
    return path


def _show(root: Path) -> Path:
    """A show config with no [ledger] url (the default), as `provenance init` writes it."""
    assert main(["init", str(root)]) == 0
    return root / "provenance.toml"


def _remember_ai(url: str, asset: Path) -> None:
    """The ledger remembers `asset`'s bytes as AI (an artist tagged them elsewhere)."""
    with Ledger.open(url) as ledger:
        sha = sha256_file(asset)
        ledger.record_tag(str(asset), None, sha, Classification.AI_GENERATED, Declarations(tool="Gen"))


def _gate(cfg: Path, pkg: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, object], str]:
    capsys.readouterr()
    rc = main(["gate", "--config", str(cfg), "--json", str(pkg)])
    out = capsys.readouterr()
    return rc, json.loads(out.out), out.err


def test_each_show_gets_its_own_ledger_on_this_hosts_disk(tmp_path: Path) -> None:
    a, b = _show(tmp_path / "a" / "show"), _show(tmp_path / "b" / "show")
    url_a, url_b = load_config(a).effective_ledger_url, load_config(b).effective_ledger_url
    assert url_a != url_b  # same folder name, two shows: two ledgers
    for url, cfg in ((url_a, a), (url_b, b)):
        db = Path(url.removeprefix("sqlite:///"))
        assert db.is_relative_to(os.environ["PROVENANCE_STATE_DIR"]) and db.is_file()
        assert not (cfg.parent / ".provenance" / "ledger.db").exists()


def test_no_show_config_means_no_ledger_and_a_refusal_naming_the_fix(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    pkg = tmp_path / "pkg"
    _png(pkg / "a.png", 1)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("PROVENANCE_CONFIG", raising=False)
    capsys.readouterr()
    rc = main(["gate", "--json", str(pkg)])
    out = capsys.readouterr()
    assert rc == 3
    assert json.loads(out.out)["result"] == "undecided"
    assert "no provenance.toml" in out.err and "--config" in out.err and "provenance init" in out.err
    assert main(["findings"]) == 3
    assert "no provenance.toml" in capsys.readouterr().err
    # Nothing fell back to one per-user ledger for every show.
    assert not list(Path(os.environ["XDG_CONFIG_HOME"]).rglob("ledger.db*"))
    assert not list(Path(os.environ["PROVENANCE_STATE_DIR"]).rglob("ledger.db*"))


def test_a_gate_on_a_host_without_the_shows_ledger_is_undecided_and_creates_none(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = _show(tmp_path / "show")
    pkg = _png(tmp_path / "show" / "final" / "a.png", 2).parent
    # Another host (its own state folder) mounts the same show and gates it.
    other = tmp_path / "transfer-host-state"
    monkeypatch.setenv("PROVENANCE_STATE_DIR", str(other))
    rc, report, err = _gate(cfg, pkg, capsys)
    assert rc == 3 and report["result"] == "undecided"
    assert "this host has no ledger for the show" in err and "PostgreSQL" in err
    assert not list(other.rglob("ledger.db*"))


def _old_show(tmp_path: Path, config: str, seed: int) -> tuple[Path, Path, Path]:
    """A show as older versions left it: its ledger in `.provenance/` inside the show folder,
    remembering an AI original, and the original's untagged bytes copied into final/.
    Returns (config, ledger file, the copy)."""
    show = tmp_path / "show"
    show.mkdir()
    cfg = show / "provenance.toml"
    cfg.write_text(config)
    legacy = show / ".provenance" / "ledger.db"
    original = _png(show / "working" / "gen.png", seed)
    _remember_ai(f"sqlite:///{legacy}", original)
    copy = show / "final" / "gen_copy.png"
    copy.parent.mkdir()
    shutil.copyfile(original, copy)
    return cfg, legacy, copy


def test_an_old_show_folder_ledger_keeps_working_and_is_named(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture) -> None:
    # An old hand-written config: no [ledger] url.
    cfg, legacy, copy = _old_show(tmp_path, "[policy]\nunknown = \"pass\"\n", 3)
    show = cfg.parent

    with caplog.at_level("WARNING", logger="provenance.ledger_location"):
        rc, report, _ = _gate(cfg, copy.parent, capsys)
    assert rc == 1, report  # the old ledger's memory still blocks the copy
    assert any(str(legacy) in r.getMessage() and "ledger move" in r.getMessage() for r in caplog.records)
    host = Path(load_config(cfg).effective_ledger_url.removeprefix("sqlite:///"))
    assert host == legacy

    # Deleting it (anyone who can write the show folder can) must not make a fresh, empty
    # ledger that forgets the copy: this host remembers it used that file.
    for f in legacy.parent.glob("ledger.db*"):
        f.unlink()
    rc, report, err = _gate(cfg, copy.parent, capsys)
    assert rc == 3 and "it is gone" in err and str(legacy) in err
    assert main(["scan", "--config", str(cfg), str(show)]) == 3  # nor does a writer start one
    assert not list(Path(os.environ["PROVENANCE_STATE_DIR"]).rglob("ledger.db*"))


def test_two_ledgers_for_one_show_are_refused_not_guessed(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = _show(tmp_path / "show")  # made this host's ledger
    legacy = cfg.parent / ".provenance" / "ledger.db"
    Ledger.open(f"sqlite:///{legacy}").close()  # and one planted in the show folder
    pkg = _png(cfg.parent / "final" / "a.png", 4).parent
    rc, _, err = _gate(cfg, pkg, capsys)
    assert rc == 3 and "two ledgers for this show" in err and str(legacy) in err


def test_init_ledger_refuses_a_password_and_a_ledger_inside_the_show(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    show = tmp_path / "show"
    for url in ("postgresql+psycopg://prov:s3cret-pw@db.invalid/show",
                "postgresql+psycopg://prov@db.invalid/show?password=s3cret-pw"):
        assert main(["init", str(show), "--ledger", url]) == 2
        out = capsys.readouterr()
        assert "s3cret-pw" not in out.out + out.err and "pgpass" in out.err
    assert main(["init", str(show), "--ledger", "sqlite:///.provenance/ledger.db"]) == 2
    assert "inside the show folder" in capsys.readouterr().err
    assert not (show / "provenance.toml").exists()

    local = tmp_path / "local" / "show.db"
    assert main(["init", str(show), "--ledger", f"sqlite:///{local}"]) == 0
    assert load_config(show / "provenance.toml").effective_ledger_url == f"sqlite:///{local}"
    assert local.is_file()


@pytest.mark.postgres
def test_init_ledger_postgres_writes_the_url_and_creates_the_schema(
        tmp_path: Path, fresh_postgres_url: str, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    show = tmp_path / "show"
    assert main(["init", str(show), "--ledger", fresh_postgres_url, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["ledger"] == fresh_postgres_url and "ledger_error" not in out
    assert load_config(show / "provenance.toml").effective_ledger_url == fresh_postgres_url
    with Ledger.open(fresh_postgres_url, create=False) as ledger:  # init made the schema
        assert ledger.verify().ok
    # A password given to libpq (PGPASSWORD) works and is never written or shown.
    monkeypatch.setenv("PGPASSWORD", "pg-secret-xyz")
    assert main(["init", str(tmp_path / "s2"), "--ledger", fresh_postgres_url]) == 0
    both = capsys.readouterr()
    assert "pg-secret-xyz" not in both.out + both.err + (tmp_path / "s2" / "provenance.toml").read_text()


def test_ledger_move_takes_the_show_folder_ledger_to_this_host_verified(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg, legacy, copy = _old_show(tmp_path, "[policy]\nunknown = \"pass\"\n", 5)
    assert load_config(cfg).effective_ledger_url == f"sqlite:///{legacy}"

    capsys.readouterr()
    assert main(["ledger", "move", "--config", str(cfg), "--json"]) == 0
    moved = json.loads(capsys.readouterr().out)
    host = Path(moved["to"])
    assert moved["from"] == str(legacy) and moved["events"] == 1
    assert host.is_relative_to(os.environ["PROVENANCE_STATE_DIR"])
    assert not legacy.exists() and list(legacy.parent.glob("ledger.db.moved-*"))
    # The show now uses the moved ledger, memory intact, and the old file's absence is no alarm.
    assert load_config(cfg).effective_ledger_url == f"sqlite:///{host}"
    with Ledger.open(f"sqlite:///{host}", create=False) as ledger:
        assert ledger.verify().ok and ledger.recall_many([sha256_file(copy)])  # the original's bytes
    assert main(["ledger", "move", "--config", str(cfg)]) == 3  # nothing left to move
    assert "already on this host" in capsys.readouterr().err


def test_inspect_without_a_show_config_reads_the_files_alone(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    png = _png(tmp_path / "loose" / "a.png", 6)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("PROVENANCE_CONFIG", raising=False)
    capsys.readouterr()
    assert main(["inspect", "--json", str(png)]) == 0
    [verdict] = json.loads(capsys.readouterr().out)["verdicts"]
    assert verdict["classification"] == "unknown" and verdict["memory"] == []


@pytest.mark.postgres
def test_a_gate_on_a_postgres_database_without_the_ledger_is_undecided_and_creates_nothing(
        tmp_path: Path, fresh_postgres_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    """A URL naming an empty database (a typo, a database made again) is not the show's memory."""
    cfg = tmp_path / "transfer" / "provenance.toml"
    cfg.parent.mkdir()
    cfg.write_text(f"[ledger]\nurl = {json.dumps(fresh_postgres_url)}\n")
    pkg = _png(tmp_path / "pkg" / "a.png", 7).parent
    rc, report, err = _gate(cfg, pkg, capsys)
    assert rc == 3 and report["result"] == "undecided" and "no ledger schema" in err
    with pytest.raises(LedgerError, match="no ledger schema"):
        Ledger.open(fresh_postgres_url, create=False)  # the gate made none


def test_a_configured_show_folder_ledger_that_vanishes_is_refused_not_recreated(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The old template's `url = "sqlite:///.provenance/ledger.db"`: an artist deletes it."""
    cfg, db, copy = _old_show(tmp_path, '[ledger]\nurl = "sqlite:///.provenance/ledger.db"\n', 8)
    assert _gate(cfg, copy.parent, capsys)[0] == 1  # this host uses it
    for f in db.parent.glob("ledger.db*"):
        f.unlink()
    rc, _, err = _gate(cfg, copy.parent, capsys)
    assert rc == 3 and "it is gone" in err and not db.exists()
