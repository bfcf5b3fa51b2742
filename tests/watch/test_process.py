"""The daemon as a real process: SIGKILL and restart, SIGTERM, SIGHUP, status.json, the CLI."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import func, select

from provenance.config import load_config
from provenance.ledger import Ledger
from provenance.ledger.schema import events, findings
from provenance.watch.daemon import status_path
from tests.watch.conftest import open_at, png_bytes, sha, show_ledger_url, verdict_shas, wait_for, write_show

REPO = Path(__file__).resolve().parents[2]


class Proc:
    def __init__(self, args: list[str], log: Path, cwd: Path | None = None,
                 env: dict[str, str] | None = None) -> None:
        self.log = log
        self.fh = open(log, "ab")  # noqa: SIM115 - lives as long as the process
        self.p = subprocess.Popen([sys.executable, "-m", "provenance", *args], stdout=self.fh,
                                  stderr=subprocess.STDOUT, cwd=cwd,
                                  env=None if env is None else {**os.environ, **env})

    def close(self) -> int | None:
        if self.p.poll() is None:
            self.p.terminate()
            try:
                self.p.wait(30)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
        self.fh.close()
        return self.p.returncode


def status(show: Path) -> dict:
    try:
        return json.loads(status_path(load_config(show / "provenance.toml")).read_text())
    except (OSError, ValueError):
        return {}


def wait_settled(show: Path, proc: Proc, since: float) -> None:
    """The daemon reconciled after `since` and has nothing queued, settling or in progress."""
    def ok() -> bool:
        assert proc.p.poll() is None, proc.log.read_text()[-3000:]
        s = status(show)
        return (bool(s.get("running")) and s.get("pid") == proc.p.pid
                and s.get("last_reconcile_at") is not None
                and s["queue_depth"] == 0 and s["settling"] == 0 and s["in_progress"] == 0
                and time.time() - since > 2.5)
    wait_for(ok, 120, "the daemon to settle")


def wait_running(show: Path, proc: Proc) -> None:
    wait_for(lambda: status(show).get("pid") == proc.p.pid and status(show).get("last_reconcile_at"),
             60, "status.json from the new daemon")


def test_sigkill_during_burst_then_restart_classifies_each_file_once(tmp_path: Path) -> None:
    show = tmp_path / "show"
    write_show(show)
    log = tmp_path / "daemon.log"
    files = [show / ("final" if i % 5 == 0 else "working") / f"f{i:04d}.png" for i in range(400)]
    proc = Proc(["watch", str(show)], log)
    try:
        wait_running(show, proc)
        for i, f in enumerate(files):
            f.write_bytes(png_bytes(1000 + i, ai=True))
            if i == 150:
                proc.p.send_signal(signal.SIGKILL)  # mid-burst: some judged, some queued, some settling
        proc.p.wait()
        assert proc.p.returncode == -signal.SIGKILL
    finally:
        proc.close()
    start = time.time()
    proc = Proc(["watch", str(show)], log)
    try:
        wait_running(show, proc)
        with Ledger.open(show_ledger_url(show)) as ledger:
            pngs = {str(f) for f in files}
            wait_for(lambda: pngs <= {loc.path for loc in ledger.locations()}, 120, "every file recorded")
            wait_settled(show, proc, start)
            for f in files:
                shas = verdict_shas(ledger, f)
                assert shas == [sha(f.read_bytes())], f"{f}: {len(shas)} verdicts"
            with ledger.engine.connect() as conn:
                opened = Counter(conn.execute(select(findings.c.path, findings.c.rule)).all())
            assert opened and max(opened.values()) == 1, "a finding was opened twice"
            for f in files:
                if f.parent.name == "final":
                    assert "temporary-material" in open_at(ledger, f), f
            assert ledger.verify().ok
    finally:
        assert proc.close() == 0


def test_restart_does_not_rehash_or_rerecord_unchanged_files(tmp_path: Path) -> None:
    show = tmp_path / "show"
    write_show(show)
    for i in range(20):
        (show / "working" / f"w{i}.png").write_bytes(png_bytes(2000 + i, ai=False))
    log = tmp_path / "daemon.log"
    for _round in range(2):
        start = time.time()
        proc = Proc(["watch", str(show)], log)
        try:
            wait_running(show, proc)
            wait_settled(show, proc, start)
        finally:
            assert proc.close() == 0
    url = show_ledger_url(show)
    with Ledger.open(url) as ledger, ledger.engine.connect() as c:
        n = c.execute(select(func.count()).select_from(events).where(events.c.kind == "verdict")).scalar()
    assert n == 21  # 20 images + provenance.toml, each recorded once across two runs


def _status_cli(show: Path, exit_code: int) -> dict:
    """What `provenance status --json` says (the command, not the file it reads), and that it
    exits `exit_code` (0 only while the daemon runs: a monitoring check reads the code)."""
    run = subprocess.run([sys.executable, "-m", "provenance", "status", "--json", "--config",
                          str(show / "provenance.toml")], capture_output=True, text=True)
    assert run.returncode == exit_code, run.stdout + run.stderr
    return dict(json.loads(run.stdout))


def test_sigterm_stops_cleanly_and_status_says_stopped(tmp_path: Path) -> None:
    show = tmp_path / "show"
    write_show(show)
    proc = Proc(["watch", str(show)], tmp_path / "daemon.log")
    try:
        wait_running(show, proc)
        assert _status_cli(show, 0)["state"] == "running"
        proc.p.send_signal(signal.SIGTERM)
        assert proc.p.wait(60) == 0
    finally:
        proc.close()
    assert _status_cli(show, 3)["state"] == "stopped"


def test_status_reports_a_killed_daemon_as_stale(tmp_path: Path) -> None:
    show = tmp_path / "show"
    write_show(show)
    proc = Proc(["watch", str(show)], tmp_path / "daemon.log")
    try:
        wait_running(show, proc)
        proc.p.kill()
        proc.p.wait()
    finally:
        proc.close()
    run = subprocess.run([sys.executable, "-m", "provenance", "status", "--config",
                          str(show / "provenance.toml")], capture_output=True, text=True)
    assert run.returncode == 3 and "STALE" in run.stdout and "gone" in run.stdout


def test_sighup_reloads_zones_and_roots_without_losing_work(tmp_path: Path) -> None:
    show = tmp_path / "show"
    cfg = write_show(show)
    extra_root = tmp_path / "second"
    extra_root.mkdir()
    proc = Proc(["watch", "--config", str(cfg)], tmp_path / "daemon.log")
    try:
        wait_running(show, proc)
        outside = extra_root / "delivery" / "x.png"
        outside.parent.mkdir()
        outside.write_bytes(png_bytes(3000, ai=True))
        comp = show / "working" / "comp" / "y.png"
        comp.parent.mkdir()
        comp.write_bytes(png_bytes(3001, ai=True))
        with Ledger.open(show_ledger_url(show)) as ledger:
            wait_for(lambda: ledger.location(str(comp)) is not None, what="comp recorded")
            assert ledger.location(str(outside)) is None  # not a root yet
            cfg.write_text(cfg.read_text() + f'\n[[roots]]\npath = "."\n[[roots]]\npath = "{extra_root}"\n'
                           '[zones]\nfinal = ["**/final/**", "**/comp/**", "**/delivery/**"]\n')
            reloads = status(show).get("reloads", 0)
            proc.p.send_signal(signal.SIGHUP)
            wait_for(lambda: status(show).get("reloads", 0) > reloads, what="reload in status")
            wait_for(lambda: "temporary-material" in open_at(ledger, outside), what="new root reconciled")
            wait_for(lambda: "temporary-material" in open_at(ledger, comp), what="new final zone applied")
            late = extra_root / "delivery" / "late.png"
            late.write_bytes(png_bytes(3002, ai=True))
            wait_for(lambda: "temporary-material" in open_at(ledger, late), what="new root watched live")
            assert proc.p.poll() is None
    finally:
        assert proc.close() == 0


def test_two_watchers_share_one_postgres_ledger(tmp_path: Path, postgres_url: str) -> None:
    shows = [tmp_path / "a", tmp_path / "b"]
    procs = []
    for show in shows:
        write_show(show, f'[ledger]\nurl = "{postgres_url}"\n')
    try:
        for show in shows:
            procs.append(Proc(["watch", str(show)], tmp_path / f"{show.name}.log"))
        for show, proc in zip(shows, procs, strict=True):
            wait_running(show, proc)
        written = []
        for i in range(60):
            for n, show in enumerate(shows):
                f = show / ("final" if i % 3 == 0 else "working") / f"s{n}_{i:03d}.png"
                f.write_bytes(png_bytes(4000 + 100 * n + i, ai=i % 2 == 0))
                written.append(f)
        with Ledger.open(postgres_url) as ledger:
            mine = {str(f) for f in written}
            wait_for(lambda: mine <= {loc.path for loc in ledger.locations()}, 120,
                     "every file from both hosts")
            for show, proc in zip(shows, procs, strict=True):
                wait_settled(show, proc, time.time() - 3)
            for f in written:
                assert verdict_shas(ledger, f) == [sha(f.read_bytes())]
            with ledger.engine.connect() as conn:
                opened = Counter(conn.execute(select(findings.c.path, findings.c.rule)
                                              .where(findings.c.path.in_(mine))).all())
            assert opened and max(opened.values()) == 1
            assert ledger.verify().ok
    finally:
        for proc in procs:
            assert proc.close() == 0


@pytest.mark.skipif(not (REPO / "sample_assets" / "show").is_dir(), reason="sample_assets not built")
def test_readme_main_job_flags_final_at_startup_and_new_copy_within_seconds(tmp_path: Path) -> None:
    """`provenance watch sample_assets/show` with the embedded ledger (on a copy of the show)."""
    import shutil

    root = tmp_path / "sample_assets"
    shutil.copytree(REPO / "sample_assets", root, ignore=shutil.ignore_patterns(".provenance"))
    show = root / "show"
    proc = Proc(["watch", "show"], tmp_path / "daemon.log", cwd=root)
    try:
        with Ledger.open(show_ledger_url(show)) as ledger:
            poster = show / "final" / "poster_generated.png"
            wait_for(lambda: "temporary-material" in open_at(ledger, poster), 60,
                     "AI asset in final/ flagged")
            new = show / "final" / "copied_in.png"
            shutil.copy(show / "working" / "generated" / "comfyui.png", new)
            wait_for(lambda: "temporary-material" in open_at(ledger, new), 30, "copied file flagged")
            camera = show / "final" / "shot020_camera.jpg"
            assert open_at(ledger, camera) == []
        assert proc.p.poll() is None
    finally:
        assert proc.close() == 0
    assert "FINDING temporary-material" in (tmp_path / "daemon.log").read_text()
