"""The daemon's reconcile walk as a real `provenance watch` process: a FIFO named like a sidecar
must not block it (nor SIGTERM), and a folder the daemon's user cannot read is reported."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from provenance.config import load_config
from provenance.ledger import Ledger
from provenance.pipeline import Inspector
from provenance.watch.daemon import status_path
from provenance.watch.reconcile import walk as reconcile_walk
from provenance.watch.worker import judge_files
from tests.unprivileged import PROVENANCE, Unprivileged
from tests.watch.conftest import png_bytes, wait_for, write_show


def _status(show: Path) -> dict:  # type: ignore[type-arg]
    try:
        return dict(json.loads(status_path(load_config(show / "provenance.toml")).read_text()))
    except (OSError, ValueError):
        return {}


def _stop(proc: subprocess.Popen[bytes]) -> int:
    proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(60)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        raise AssertionError("the daemon did not stop within 60 s of SIGTERM") from None


def test_a_fifo_named_like_a_sidecar_blocks_neither_reconcile_nor_sigterm(tmp_path: Path) -> None:
    show = tmp_path / "show"
    write_show(show)
    (show / "final" / "x.png").write_bytes(png_bytes(1, ai=True))
    for name in ("x.png.xmp", "x.png.approval.json", "x.png.c2pa"):
        os.mkfifo(show / "final" / name)
    log = (tmp_path / "daemon.log").open("wb")
    proc = subprocess.Popen([sys.executable, "-m", "provenance", "watch", str(show)], stdout=log,
                            stderr=subprocess.STDOUT)
    try:
        # the reconcile finished, and the AI file beside the FIFOs was judged and flagged
        wait_for(lambda: _status(show).get("last_reconcile") is not None
                 and (_status(show).get("open_findings") or 0) >= 1, 60,
                 "the start-up reconcile and a finding")
    finally:
        rc = _stop(proc)
        log.close()
    assert rc == 0, (tmp_path / "daemon.log").read_text()[-3000:]


def test_the_daemon_reports_a_folder_it_cannot_read(unprivileged: Unprivileged,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    show = unprivileged.home / "show"
    write_show(show)
    (show / ".provenance").mkdir()
    (show / ".provenance").chmod(0o777)
    # The daemon's own state goes to its user's local state folder, not to the show.
    monkeypatch.setenv("PROVENANCE_STATE_DIR", str(unprivileged.home / "state"))
    locked = show / "final" / "locked"
    locked.mkdir()
    (locked / "ai.png").write_bytes(png_bytes(2, ai=True))
    locked.chmod(0)
    log = (unprivileged.home / "daemon.log").open("wb")
    proc = subprocess.Popen(unprivileged.command([PROVENANCE, "watch", show]), stdout=log,
                            stderr=subprocess.STDOUT, cwd=show, env=unprivileged.env())
    try:
        wait_for(lambda: _status(show).get("last_reconcile") is not None, 60, "the start-up reconcile")
        assert _status(show)["last_reconcile"]["unreadable_dirs"] == [str(locked)]
        shown = unprivileged.run([PROVENANCE, "status"], cwd=show)
        assert f"could not read folder {locked}" in shown.stdout, shown.stdout + shown.stderr
    finally:
        _stop(proc)
        log.close()
    logged = (unprivileged.home / "daemon.log").read_text()
    assert f"{locked}: cannot read folder: Permission denied" in logged


def test_the_worker_and_the_reconcile_walk_skip_the_same_sidecars(tmp_path: Path) -> None:
    show = tmp_path / "show"
    write_show(show, '[approvals]\npackage_folder = "approvals"\n')
    (show / "final" / "x.png").write_bytes(png_bytes(3, ai=False))
    approval = show / "final" / "approvals" / "x.png.approval.json"
    approval.parent.mkdir()
    approval.write_text('{"schema": "https://provenance-tool.org/approval-file/v1", "approvals": []}')
    config = load_config(show / "provenance.toml")
    unreadable: list[str] = []
    walked = sorted(os.path.basename(p) for p, _ in reconcile_walk(str(show / "final"), config, unreadable))
    assert walked == ["x.png"] and unreadable == []
    with Ledger.open(f"sqlite:///{tmp_path / 'ledger.db'}") as ledger, Inspector() as inspector:
        judged = judge_files(inspector, ledger, config, [str(approval), str(show / "final" / "x.png")])
        assert judged[0] is None and judged[1] is not None  # an event for the approval: skipped alike
