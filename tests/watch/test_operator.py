"""The daemon as an operator runs it, as real processes: one per show, systemd's notify and
watchdog protocol over a real datagram socket, journald priorities, status exit codes."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from provenance.config import load_config
from provenance.host_state import show_dir
from tests.watch.conftest import png_bytes, wait_for, write_show
from tests.watch.test_process import Proc, status, wait_running


def _watch(show: Path, log: Path, env: dict[str, str] | None = None) -> Proc:
    return Proc(["watch", str(show / "provenance.toml")], log, env=env)


def test_a_second_daemon_on_the_same_show_is_refused_and_says_who_holds_it(tmp_path: Path) -> None:
    show = tmp_path / "show"
    write_show(show)
    first = _watch(show, tmp_path / "first.log")
    try:
        wait_running(show, first)
        second = subprocess.run([sys.executable, "-m", "provenance", "watch", str(show / "provenance.toml")],
                                capture_output=True, text=True, timeout=60)
        assert second.returncode == 3, second.stdout + second.stderr
        assert f"pid {first.p.pid} on {socket.gethostname()} since " in second.stderr
        assert status(show)["pid"] == first.p.pid  # the refused one wrote nothing
        # The kernel drops the lock with its holder, even on SIGKILL: no stale lock to clean up.
        first.p.kill()
        first.p.wait()
    finally:
        first.close()
    again = _watch(show, tmp_path / "again.log")
    try:
        wait_running(show, again)
    finally:
        assert again.close() == 0


def test_the_daemons_state_is_on_this_host_not_in_the_watched_show(tmp_path: Path) -> None:
    show = tmp_path / "show"
    write_show(show, extra=f'[ledger]\nurl = "sqlite:///{tmp_path / "ledger.db"}"\n')
    before = sorted(p.relative_to(show) for p in show.rglob("*"))
    proc = _watch(show, tmp_path / "daemon.log")
    try:
        wait_running(show, proc)
        assert (show_dir(load_config(show / "provenance.toml")) / "status.json").is_file()
    finally:
        assert proc.close() == 0
    # With the ledger elsewhere the daemon wrote nothing at all into the tree it watches
    # (what the systemd unit promises).
    assert sorted(p.relative_to(show) for p in show.rglob("*")) == before


def test_last_event_ignores_the_daemons_own_writes(tmp_path: Path) -> None:
    show = tmp_path / "show"
    write_show(show)  # default ledger: its writes land in the show's .provenance/
    proc = _watch(show, tmp_path / "daemon.log")
    try:
        wait_running(show, proc)
        first = status(show)["updated_at"]
        # two more status rounds, and the ledger written by the start-up reconcile
        wait_for(lambda: status(show)["updated_at"] != first, 30, "a status round")
        second = status(show)["updated_at"]
        wait_for(lambda: status(show)["updated_at"] != second, 30, "another status round")
        assert status(show)["last_event_at"] is None
        (show / "working" / "new.png").write_bytes(png_bytes(1, ai=False))
        wait_for(lambda: status(show)["last_event_at"] is not None, 30, "the artist's file as last event")
    finally:
        assert proc.close() == 0


@pytest.fixture
def notify_socket() -> Iterator[tuple[socket.socket, str]]:
    """A real AF_UNIX datagram socket standing in for systemd's (short path: sun_path is 108 bytes)."""
    folder = tempfile.mkdtemp(prefix="sdn-", dir="/tmp")
    path = os.path.join(folder, "notify")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    sock.settimeout(60)
    try:
        yield sock, path
    finally:
        sock.close()
        os.unlink(path)
        os.rmdir(folder)


def _messages(sock: socket.socket, until: str, limit: float = 60) -> list[str]:
    got: list[str] = []
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        got.append(sock.recv(4096).decode())
        if until in got[-1].split("\n"):
            return got
    raise AssertionError(f"no {until} within {limit:.0f} s; got {got}")


def test_systemd_notify_ready_watchdog_stopping(tmp_path: Path,
                                                notify_socket: tuple[socket.socket, str]) -> None:
    sock, path = notify_socket
    show = tmp_path / "show"
    write_show(show)
    proc = _watch(show, tmp_path / "daemon.log", env={"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "1000000"})
    try:
        ready = _messages(sock, "READY=1")
        assert len(ready) == 1 and "STATUS=watching 1 root(s)" in ready[0]
        pings = [m for _ in range(3) for m in _messages(sock, "WATCHDOG=1", 10)]
        assert pings.count("WATCHDOG=1") == 3
        proc.p.send_signal(signal.SIGTERM)
        assert any(m.startswith("STOPPING=1") for m in _messages(sock, "STOPPING=1"))
        assert proc.p.wait(60) == 0
    finally:
        proc.close()


def test_systemd_abstract_notify_socket(tmp_path: Path) -> None:
    name = f"provenance-test-{os.getpid()}-{time.monotonic_ns()}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind("\0" + name)
        sock.settimeout(60)
        show = tmp_path / "show"
        write_show(show)
        proc = _watch(show, tmp_path / "daemon.log", env={"NOTIFY_SOCKET": "@" + name})
        try:
            assert _messages(sock, "READY=1")
        finally:
            assert proc.close() == 0


def test_no_watchdog_pings_from_a_daemon_whose_status_loop_is_stuck(tmp_path: Path) -> None:
    from provenance.ledger import Ledger
    from provenance.watch.daemon import STATUS_EVERY_S, Daemon

    show = tmp_path / "show"
    config = load_config(write_show(show))
    with Ledger.open(config.effective_ledger_url) as ledger:
        daemon = Daemon(config, ledger)
        daemon.start()
        try:
            wait_for(daemon.alive, 30, "a first status round")
            daemon.heartbeat -= 4 * STATUS_EVERY_S  # as if the loop had hung that long on the ledger
            assert not daemon.alive()
        finally:
            daemon.stop()
        assert not daemon.alive()  # a stopped status loop is not alive either


def _journal_env(log: Path) -> dict[str, str]:
    st = os.stat(log)
    return {"JOURNAL_STREAM": f"{st.st_dev}:{st.st_ino}"}


def test_under_journald_findings_carry_the_warning_priority(tmp_path: Path) -> None:
    show = tmp_path / "show"
    write_show(show)
    log = tmp_path / "daemon.log"
    log.touch()
    proc = _watch(show, log, env=_journal_env(log))
    try:
        wait_running(show, proc)
        (show / "final" / "gen.png").write_bytes(png_bytes(7, ai=True))
        wait_for(lambda: "FINDING" in log.read_text(), 60, "the finding in the log")
    finally:
        assert proc.close() == 0
    lines = log.read_text().splitlines()
    finding = [line for line in lines if "FINDING" in line]
    assert finding and all(line.startswith("<4>WARNING FINDING ") for line in finding), finding
    assert any(line.startswith("<6>INFO    provenance ") for line in lines), lines[:5]
    # every line has a priority, and no second timestamp (the journal stamps each line)
    assert all(line[:3] in {"<2>", "<3>", "<4>", "<6>", "<7>"} for line in lines), lines
    assert not any(line[3:5] == "20" for line in lines)


def test_json_lines_under_journald_stay_json_after_the_prefix(tmp_path: Path) -> None:
    import json

    show = tmp_path / "show"
    write_show(show, extra='log_format = "json"\n')
    log = tmp_path / "daemon.log"
    log.touch()
    proc = _watch(show, log, env=_journal_env(log))
    try:
        wait_running(show, proc)
    finally:
        assert proc.close() == 0
    lines = log.read_text().splitlines()
    assert lines and all(line.startswith("<6>{") for line in lines if '"level": "info"' in line)
    assert all(json.loads(line[3:])["msg"] for line in lines)


def test_without_journald_lines_keep_their_timestamp_and_no_prefix(tmp_path: Path) -> None:
    show = tmp_path / "show"
    write_show(show)
    log = tmp_path / "daemon.log"
    proc = _watch(show, log, env={"JOURNAL_STREAM": "1:1"})  # someone else's journal stream
    try:
        wait_running(show, proc)
    finally:
        assert proc.close() == 0
    first = log.read_text().splitlines()[0]
    assert first[:2] == "20" and not first.startswith("<")
