"""One bad file, a bad notifier, a raising handler, a dead observer: the daemon goes on."""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from pathlib import Path

import pytest

from provenance import judge as judge_module
from provenance.config import load_config
from provenance.ledger import Ledger
from provenance.watch import worker
from provenance.watch.reconcile import ReconcileLoop, ReconcileResult
from provenance.watch.settle import Settler
from tests.watch.conftest import SETTLE, Running, open_at, png_bytes, sha, start_daemon, wait_for, write_show


def test_exception_in_one_file_is_logged_and_the_next_file_is_handled(
        running: Running, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    real = worker.judge_file

    def judge(inspector, ledger, config, path):
        if "poison" in path:
            raise RuntimeError("injected failure")
        return real(inspector, ledger, config, path)

    monkeypatch.setattr(worker, "judge_file", judge)
    bad = running.root / "final" / "poison.png"
    bad.write_bytes(png_bytes(20, ai=True))
    wait_for(lambda: running.daemon.processor.errors >= 1, what="the injected error")
    good = running.root / "final" / "next.png"
    good.write_bytes(png_bytes(21, ai=True))
    running.wait_location(good, sha(good.read_bytes()))
    assert running.location(bad) is None
    assert any(str(bad) in r.getMessage() and "injected failure" in r.getMessage() for r in caplog.records)
    assert all(w.alive() for w in running.daemon.watches.values())


def test_corrupt_and_zero_byte_files_record_errors_and_daemon_goes_on(running: Running) -> None:
    empty = running.root / "final" / "empty.png"
    empty.write_bytes(b"")
    corrupt = running.root / "final" / "corrupt.png"
    corrupt.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00garbage" * 50)
    running.wait_location(empty)
    running.wait_location(corrupt)
    assert running.location(empty).sha256 == hashlib.sha256(b"").hexdigest()  # judged like any file
    # counted just after the batch's ledger transaction commits, so wait for it
    wait_for(lambda: running.daemon.processor.errors >= 1, what="the errors to be counted")
    good = running.root / "final" / "after.png"
    good.write_bytes(png_bytes(22, ai=True))
    wait_for(lambda: "temporary-material" in open_at(running.ledger, good), what="next file flagged")


def test_raising_handler_does_not_kill_the_observer(
        running: Running, monkeypatch: pytest.MonkeyPatch) -> None:
    real = running.daemon.settler.touch

    def touch(path: str, hint: str) -> None:
        if "poison" in path:
            raise ValueError("injected handler failure")
        real(path, hint)

    monkeypatch.setattr(running.daemon.settler, "touch", touch)
    (running.root / "working" / "poison.png").write_bytes(png_bytes(23, ai=False))
    wait_for(lambda: running.daemon.handler_errors >= 1, what="the handler error")
    good = running.root / "working" / "fine.png"
    good.write_bytes(png_bytes(24, ai=False))
    running.wait_location(good, sha(good.read_bytes()))
    assert all(w.alive() for w in running.daemon.watches.values())


def test_failing_notifier_is_logged_never_fatal(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    show = tmp_path / "show"
    daemon, ledger = start_daemon(show, 'notify_command = "cat > /dev/null; echo nope >&2; exit 7"\n')
    try:
        a = show / "final" / "a.png"
        a.write_bytes(png_bytes(30, ai=True))
        wait_for(lambda: "temporary-material" in open_at(ledger, a), what="finding despite the notifier")
        wait_for(lambda: any("exited 7" in r.getMessage() for r in caplog.records), what="notifier error")
        b = show / "final" / "b.png"
        b.write_bytes(png_bytes(31, ai=True))
        wait_for(lambda: "temporary-material" in open_at(ledger, b), what="the next finding")
    finally:
        daemon.stop()
        ledger.close()


def test_notifier_gets_finding_json_and_env(tmp_path: Path) -> None:
    show = tmp_path / "show"
    out = tmp_path / "notified"
    out.mkdir()
    cmd = f'cat > "{out}/$PROVENANCE_FINDING_RULE.json"; echo "$PROVENANCE_FINDING_PATH" > "{out}/path"'
    daemon, ledger = start_daemon(show, f"notify_command = '{cmd}'\n")
    try:
        a = show / "final" / "a.png"
        a.write_bytes(png_bytes(32, ai=True))
        wait_for(lambda: (out / "temporary-material.json").is_file() and (out / "path").is_file(),
                 what="notification")
        wait_for(lambda: (out / "temporary-material.json").read_text().endswith("}"), what="full JSON")
        sent = json.loads((out / "temporary-material.json").read_text())
        assert sent["path"] == str(a) and sent["sha256"] == sha(a.read_bytes())
        assert (out / "path").read_text().strip() == str(a)
    finally:
        daemon.stop()
        ledger.close()


def test_dead_observer_is_restarted_and_missed_files_reconciled(running: Running) -> None:
    watch = next(iter(running.daemon.watches.values()))
    watch.observer.stop()  # the observer thread ends, as after an exception in watchdog
    watch.observer.join()
    missed = running.root / "final" / "while_dead.png"
    missed.write_bytes(png_bytes(40, ai=True))  # no observer: only a reconcile can find this
    wait_for(lambda: watch.restarts >= 1 and watch.alive(), what="the supervisor to restart it")
    wait_for(lambda: "temporary-material" in open_at(running.ledger, missed), what="reconciled file")
    later = running.root / "final" / "after_restart.png"
    later.write_bytes(png_bytes(41, ai=True))
    running.wait_location(later, sha(later.read_bytes()))


def test_overflow_log_line_triggers_a_reconcile(running: Running) -> None:
    runs = running.daemon.reconciler.runs
    missed = running.root / "working" / "lost.png"
    watch = next(iter(running.daemon.watches.values()))
    watch.handler.is_ignored = lambda p: True  # events for this file are "lost"
    missed.write_bytes(png_bytes(42, ai=False))
    time.sleep(SETTLE * 2)
    watch.handler.is_ignored = running.config.is_ignored
    # watchdog's own logger, with watchdog's own message: what 7.1.0 emits on IN_Q_OVERFLOW
    logging.getLogger("watchdog.observers.inotify_c").warning(
        "Inotify queue overflowed; filesystem events were lost")
    assert running.daemon.overflows.count == 1
    wait_for(lambda: running.daemon.reconciler.runs > runs, what="a reconcile after the overflow")
    running.wait_location(missed, sha(missed.read_bytes()))


def test_settler_waits_for_a_writer_that_sends_no_events(tmp_path: Path) -> None:
    """Polling/NFS: after one event nothing more arrives, yet the file keeps growing."""
    ready: list[str] = []
    settler = Settler(0.2, ready.append, lambda p: None, lambda p: None, lambda p: False)
    settler.start()
    f = tmp_path / "grow.bin"
    f.write_bytes(b"x")
    settler.touch(str(f), "created")
    stop = threading.Event()

    def grow() -> None:
        with open(f, "ab") as fh:
            while not stop.is_set():
                fh.write(b"y" * 100)
                fh.flush()
                time.sleep(0.02)

    t = threading.Thread(target=grow)
    t.start()
    try:
        time.sleep(1.5)  # many settle periods with no event
        assert ready == []
    finally:
        stop.set()
        t.join()
    wait_for(lambda: ready == [str(f)], what="ready once the writer stopped")
    settler.stop()


def test_reconcile_requests_back_off_after_a_burst() -> None:
    runs: list[str] = []
    loop = ReconcileLoop(lambda reason: runs.append(reason) or ReconcileResult(), 600,
                         burst=3, window_s=60, max_backoff_s=0.5)
    loop.start()
    try:
        wait_for(lambda: loop.runs == 1, what="start-up reconcile")
        for i in range(2):  # start-up + 2 requests: three runs in the window, no waiting yet
            loop.request(f"overflow {i}")
            wait_for(lambda i=i: loop.runs == i + 2, what="requested reconcile")
        assert loop._backoff_s == 0.0
        loop.request("overflow again")
        wait_for(lambda: loop.runs == 4, what="backed-off reconcile")
        assert loop._backoff_s > 0  # the fourth quick run in the window waited first
    finally:
        loop.stop()


def test_a_failing_file_in_a_batch_costs_only_that_file(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    """Files queued together are judged as one batch (one ExifTool call, one transaction);
    one file's failure in its own step must not lose the others."""
    config = load_config(write_show(tmp_path))
    files = [tmp_path / "final" / f"{name}.png" for name in ("a", "b", "poison", "c", "d")]
    for i, f in enumerate(files):
        f.write_bytes(png_bytes(40 + i, ai=True))
    real = judge_module.judge
    batches: list[int] = []
    real_judge_files = worker.judge_files

    def judge_files(inspector, ledger, config, paths):
        batches.append(len(paths))
        return real_judge_files(inspector, ledger, config, paths)

    def policy(verdict, *args, **kwargs):
        if "poison" in verdict.path:
            raise RuntimeError("injected failure")
        return real(verdict, *args, **kwargs)

    monkeypatch.setattr(judge_module, "judge", policy)
    monkeypatch.setattr(worker, "judge_files", judge_files)
    with Ledger.open(config.effective_ledger_url) as ledger:
        processor = worker.Processor(config, ledger, workers=1)
        for f in files:  # all queued before the worker starts: it takes them as one batch
            processor.submit(str(f))
        processor.start()
        processor.join_idle()
        processor.stop()
        assert batches == [5]
        # the poison file is an error AND stays visible as "could not decide", never clear
        assert processor.errors == 1 and processor.processed == 5
        for f in files:
            expected = "rule-error" if "poison" in f.name else "temporary-material"
            assert expected in open_at(ledger, f), f
    assert any(str(files[2]) in r.getMessage() and "injected failure" in r.getMessage()
               for r in caplog.records)
