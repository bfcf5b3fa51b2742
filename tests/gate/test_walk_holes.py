"""What the gate's walk must never do: skip a folder it cannot read, hang on a FIFO, crash on a
name that is not UTF-8 or on a deep tree, or let one odd entry decide the whole package.
Real `provenance gate` / `hooks/pre-handoff` processes, real files, a real unprivileged user."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import func, select

from provenance.config import load_config
from provenance.ledger import Ledger
from provenance.ledger.schema import gate_decisions
from provenance.pathtext import from_text
from provenance.watch.daemon import status_path
from tests.gate.conftest import CONFIG, Show, ai_png, asset, plain_png
from tests.unprivileged import PROVENANCE, REPO, Unprivileged

HOOK = REPO / "hooks" / "pre-handoff"


def _gate(show: Show, *paths: str | Path, timeout: float = 120) -> tuple[int, dict, str]:  # type: ignore[type-arg]
    done = subprocess.run([str(PROVENANCE), "gate", "--json", "--config", str(show.config_file),
                           *map(str, paths)], capture_output=True, timeout=timeout)
    # strict UTF-8: a JSON report must be readable by any JSON reader, whatever the names hold
    return done.returncode, json.loads(done.stdout.decode("utf-8")), done.stderr.decode(errors="replace")


def test_a_fifo_named_like_a_sidecar_is_undecided_not_a_hang(show: Show, tmp_path: Path) -> None:
    ai_png(show.pkg / "x.png")
    plain_png(show.pkg / "y.png")
    for name in ("x.png.xmp", "x.png.approval.json", "y.png.c2pa", "y.xmp"):
        os.mkfifo(show.pkg / name)
    rc, report, err = _gate(show, show.pkg)
    assert rc == 3, err
    for name in ("x.png.xmp", "x.png.approval.json", "y.png.c2pa", "y.xmp"):
        fifo = asset(report, name)
        assert fifo["status"] == "undecided" and "not a regular file (a FIFO)" in json.dumps(fifo)
    assert asset(report, "x.png")["status"] == "blocked"
    marker = tmp_path / "sent"
    hook = subprocess.run([str(HOOK), "--config", str(show.config_file), str(show.pkg), "--",
                           "touch", str(marker)], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PROVENANCE": str(PROVENANCE)})
    assert hook.returncode == 3 and not marker.exists()


def test_a_folder_the_gate_cannot_read_is_undecided(unprivileged: Unprivileged) -> None:
    root = unprivileged.home / "show"
    root.mkdir()
    (root / "provenance.toml").write_text(CONFIG.replace('approvers_file = "approvers.toml"\n', ""))
    unprivileged.own_ledger(root / "provenance.toml")
    pkg = root / "pkg"
    ai_png(pkg / "locked" / "ai.png")
    plain_png(pkg / "plain.png")
    (pkg / "locked").chmod(0)
    gated = unprivileged.run([PROVENANCE, "gate", "--json", "pkg"], cwd=root)
    assert gated.returncode == 3, gated.stdout + gated.stderr
    report = json.loads(gated.stdout)
    locked = asset(report, "locked")
    assert locked["status"] == "undecided"
    assert "cannot read folder: Permission denied" in json.dumps(locked)
    assert asset(report, "plain.png")["status"] == "clear"
    marker = unprivileged.home / "sent"
    hook = unprivileged.run([HOOK, "pkg", "--", "touch", marker], cwd=root,
                            env={"PROVENANCE": str(PROVENANCE)})
    assert hook.returncode == 3 and not marker.exists()


def test_an_ai_file_whose_name_is_not_utf8_is_blocked_and_the_decision_recorded(show: Show) -> None:
    name = os.fsdecode(b"ai_\xff\xfe.png")
    ai_png(show.pkg / name)
    plain_png(show.pkg / "plain.png")
    done = subprocess.run([str(PROVENANCE), "gate", "--config", str(show.config_file), str(show.pkg)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 1, done.stderr
    assert "BLOCKED   ai_\\xff\\xfe.png (ai_generated)" in done.stdout  # the report goes to stdout
    rc, report, _ = _gate(show, show.pkg)
    # JSON readers get valid UTF-8 and the lossless text form, which maps back to the name
    assert rc == 1 and asset(report, "ai_\\xff\\xfe.png")["status"] == "blocked"
    assert from_text(asset(report, "ai_\\xff\\xfe.png")["files"][0]["path"]) == name
    with Ledger.open(f"sqlite:///{show.root / '.provenance' / 'ledger.db'}") as ledger:
        with ledger.engine.connect() as conn:
            assert conn.execute(select(func.count()).select_from(gate_decisions)).scalar() == 2
        assert ledger.verify().ok


def test_an_ai_file_1100_folders_deep_is_blocked(show: Show, deep: Path, tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    ai_png(deep / "ai.png")
    rc, report, err = show.gate(tmp_path / "deep", capsys=capsys)
    assert rc == 1, err
    (only,) = report["assets"]
    assert only["status"] == "blocked" and only["name"].endswith("d/d/ai.png")


def test_a_zero_byte_file_is_judged_like_any_file(show: Show, capsys: pytest.CaptureFixture[str]) -> None:
    (show.pkg / "empty.mov").write_bytes(b"")
    plain_png(show.pkg / "plain.png")
    rc, report, err = show.gate(show.pkg, capsys=capsys)
    assert rc == 0, err  # `unknown = "pass"` in this show: an empty file is unknown, not an error
    assert asset(report, "empty.mov")["status"] == "clear"


def test_a_symlinked_package_root_is_followed_once(show: Show, capsys: pytest.CaptureFixture[str],
                                                  caplog: pytest.LogCaptureFixture) -> None:
    plain_png(show.pkg / "plain.png")
    link = show.root / "deliveries" / "current"
    link.symlink_to(show.pkg, target_is_directory=True)
    rc, report, err = show.gate(link, capsys=capsys)
    assert rc == 0, err
    assert [a["name"] for a in report["assets"]] == ["plain.png"]
    ai_png(show.pkg / "ai.png")
    rc, report, err = show.gate(link, capsys=capsys)
    assert rc == 1 and asset(report, "ai.png")["status"] == "blocked"
    assert f"{link} is a symlink to the folder {show.pkg}: walking that folder" in caplog.messages


def test_a_fifo_in_place_of_the_config_or_the_status_file_is_exit_3_not_a_hang(show: Show) -> None:
    plain_png(show.pkg / "plain.png")
    fifo_config = show.root / "other.toml"
    os.mkfifo(fifo_config)
    gated = subprocess.run([str(PROVENANCE), "gate", "--config", str(fifo_config), str(show.pkg)],
                           capture_output=True, text=True, timeout=120)
    assert gated.returncode == 3 and "not a regular file (a FIFO)" in gated.stderr
    assert gated.stdout == "gate: UNDECIDED — do not send (exit 3)\n"
    status_file = status_path(load_config(show.config_file))  # this host's state folder for the show
    status_file.parent.mkdir(parents=True, exist_ok=True)
    os.mkfifo(status_file)
    status = subprocess.run([str(PROVENANCE), "status", "--config", str(show.config_file)],
                            capture_output=True, text=True, timeout=120)
    assert status.returncode == 3 and "not a regular file (a FIFO)" in status.stdout + status.stderr
