"""The gate never exits 0 when it could not decide: unreadable files, unreachable ledgers, bad config."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.gate.conftest import CONFIG, PROVENANCE, Show, ai_png, asset, plain_png
from tests.unprivileged import give_ledger


@pytest.fixture
def world_readable_show(exiftool_available: None) -> Iterator[Path]:
    # pytest's tmp_path is 0700 under /tmp/pytest-of-root; an unprivileged child needs a way in.
    root = Path(tempfile.mkdtemp(prefix="provenance-gate-"))
    try:
        os.chmod(root, 0o755)
        (root / "provenance.toml").write_text(CONFIG)
        os.chmod(root / "provenance.toml", 0o644)
        give_ledger(root / "provenance.toml", 65534, 65534)  # the gate records into it as nobody
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)


@pytest.mark.skipif(shutil.which("setpriv") is None, reason="setpriv (util-linux) not installed")
def test_unreadable_file_exits_3_not_clear(world_readable_show: Path) -> None:
    root = world_readable_show
    pkg = root / "pkg"
    plain_png(pkg / "readable.png")
    secret = plain_png(pkg / "locked.png", 2)
    for p in (pkg, pkg / "readable.png"):
        os.chmod(p, 0o755 if p.is_dir() else 0o644)
    os.chmod(secret, 0o600)  # root-owned: nobody cannot read it
    env = {**os.environ, "HOME": str(root), "XDG_CONFIG_HOME": str(root / ".provenance")}
    proc = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                           str(PROVENANCE), "gate", "--config", str(root / "provenance.toml"), "--json",
                           str(pkg)], capture_output=True, text=True, env=env, cwd=root, timeout=120)
    assert proc.returncode == 3, proc.stderr
    report = json.loads(proc.stdout)
    assert report["result"] == "undecided"
    locked = asset(report, "locked.png")
    assert locked["status"] == "undecided" and any("permission denied" in r for r in locked["reasons"])
    assert asset(report, "readable.png")["status"] == "clear"


def test_unreachable_ledger_exits_3(show: Show, tmp_path: Path) -> None:
    plain_png(show.pkg / "a.png")
    cfg = tmp_path / "provenance.toml"
    # Port 1 on localhost: nothing listens there, so the connection is refused at once.
    cfg.write_text(CONFIG.replace('sqlite:///.provenance/ledger.db',
                                  'postgresql+psycopg://provenance@127.0.0.1:1/provenance'))
    proc = subprocess.run([str(PROVENANCE), "gate", "--config", str(cfg), "--json", str(show.pkg)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 3, proc.stderr
    report = json.loads(proc.stdout)
    assert report["result"] == "undecided" and report["fatal"]
    assert "could not decide" in proc.stderr


def test_invalid_config_exits_3(show: Show, tmp_path: Path) -> None:
    ai_png(show.pkg / "gen.png")
    cfg = tmp_path / "provenance.toml"
    cfg.write_text('[policy]\nunknown = "sometimes"\n')
    proc = subprocess.run([str(PROVENANCE), "gate", "--config", str(cfg), str(show.pkg)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 3 and "unknown" in proc.stderr


def test_missing_path_is_undecided(show: Show, capsys: pytest.CaptureFixture[str]) -> None:
    rc, report, _ = show.gate(show.pkg / "no-such-folder", capsys=capsys)
    assert rc == 3 and report["result"] == "undecided"


def test_usage_error_exits_2(show: Show) -> None:
    proc = subprocess.run([str(PROVENANCE), "gate"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2


def test_an_internal_error_on_one_file_leaves_only_that_file_undecided(
        show: Show, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """Files are read in batches; a crash while reading one must not decide the others,
    and must not let that one through."""
    from provenance.gate import core

    for i in range(5):
        plain_png(show.pkg / f"clean_{i}.png", i)
    ai_png(show.pkg / "gen.png")
    plain_png(show.pkg / "poison.png", 9)
    real = core.cache_key

    def cache_key(path, siblings=None):
        if path.name == "poison.png":
            raise RuntimeError("injected reader crash")
        return real(path, siblings)

    monkeypatch.setattr(core, "cache_key", cache_key)
    rc, report, _ = show.gate(show.pkg, capsys=capsys)
    assert rc == 3 and report["result"] == "undecided"
    poison = asset(report, "poison.png")
    assert poison["status"] == "undecided"
    assert any("injected reader crash" in r for r in poison["reasons"])
    assert asset(report, "gen.png")["status"] == "blocked"
    # Numbered like frames, so one sequence as fileseq reads them: every frame of it clear.
    clean = asset(report, "clean_0-4@.png")
    assert clean["status"] == "clear" and [f["status"] for f in clean["files"]] == ["clear"] * 5
