"""`run(config, stop_event)`: the long-running watcher, wired from small parts.

observers (one per root) → handler → settler → bounded work queue → workers → ledger.
A reconcile loop (start-up, periodic, after overflow/restart/reload), a supervisor
(dead observers), and a status writer (`status.json` in this host's state folder for the
show, atomically, every few seconds, for `provenance status` in another process) run beside
them. Nothing of the daemon's own goes into the watched roots (host_state.py says why).

One daemon per show and host: `run` holds the show's lock (lock.py) for its whole life.
Under systemd (`Type=notify`) it says READY=1 once watching, pings the watchdog while its
status loop keeps going round (a daemon hung on its ledger stops pinging and is restarted),
and STOPPING=1 when it stops.

Stop (SIGTERM/SIGINT or `stop_event`): observers stop first (no new events), then the
workers finish every queued file; files still settling are left to the next start-up
reconcile. Reload (SIGHUP): new roots, zones, ignore list and settle time, keeping the
queue and the settling files.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event

from provenance import __version__
from provenance._os import write_atomic
from provenance.config import Config, Root, load_config
from provenance.errors import LedgerError
from provenance.host_state import show_dir, show_key
from provenance.ledger.store import redacted
from provenance.pathtext import to_text
from provenance.watch import sd_notify
from provenance.watch.handler import WatchHandler
from provenance.watch.lock import LOCK_NAME, DaemonLock, ledger_lock
from provenance.watch.observer import OverflowCounter, RootWatch, Supervisor
from provenance.watch.reconcile import ReconcileLoop, ReconcileResult, reconcile
from provenance.watch.settle import Settler
from provenance.watch.worker import Processor

log = logging.getLogger(__name__)

STATUS_NAME = "status.json"
STATUS_EVERY_S = 2.0


def status_path(config: Config) -> Path:
    return show_dir(config, create=False) / STATUS_NAME


def lock_path(config: Config) -> Path:
    return show_dir(config) / LOCK_NAME


class LedgerLost(LedgerError):
    """The SQLite ledger file the daemon opened is no longer the file at its path."""


def _file_identity(path: Path) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    return st.st_dev, st.st_ino


class LedgerFileGuard:
    """Notices the SQLite ledger file being deleted or replaced under a running daemon.

    SQLite keeps writing into the file it has open: once that file is unlinked (or a backup is
    copied over its name), everything recorded afterwards is lost while the daemon looks
    healthy. So the path's (dev, inode) is compared with the file opened at start, every status
    interval, before every commit (an SQLAlchemy `commit` hook: raising there rolls the
    transaction back, so nothing more goes into the lost file) and before every new connection.
    PostgreSQL needs no guard.
    """

    def __init__(self, ledger: Any) -> None:
        engine = getattr(ledger, "engine", None)
        database = engine.url.database if engine is not None and engine.dialect.name == "sqlite" else None
        self.path = Path(database) if database and not database.startswith(("file:", ":memory:")) else None
        self.identity = _file_identity(self.path) if self.path is not None else None
        self.lost: str | None = None
        if self.path is not None:
            event.listen(engine, "commit", self._before_commit)
            # A new pooled connection to a deleted path would create an empty ledger there.
            event.listen(engine, "do_connect", self._before_connect)

    def check(self) -> str | None:
        """Why the ledger is lost, or None while the path still names the file we write to."""
        if self.path is None or self.lost is not None:
            return self.lost
        now = _file_identity(self.path)
        if now != self.identity:
            what = "was deleted" if now is None else "was replaced by another file"
            self.lost = (f"the ledger {self.path} {what} while the daemon was writing to it; "
                         "nothing more can be recorded (restore it or start the daemon again)")
            log.error("%s: stopping", self.lost)
        return self.lost

    def _before_commit(self, _conn: object) -> None:
        if self.check() is not None:
            raise LedgerLost(self.lost or "")

    def _before_connect(self, *_args: object) -> None:
        self._before_commit(None)


class Daemon:
    """Everything `run` starts, as an object tests can drive in-process."""

    def __init__(self, config: Config, ledger: Any) -> None:
        self.config = config
        self.ledger = ledger
        self.started_at = time.time()
        self.last_event_at: float | None = None
        self.handler_errors = 0
        self.reloads = 0
        self.processor = Processor(config, ledger, config.workers, requeue=self._settle_again)
        self.settler = Settler(config.settle_s, ready=self.processor.submit, gone=self.processor.submit_gone,
                               gone_tree=self.processor.submit_gone_tree, is_ignored=config.is_ignored)
        self.handler = WatchHandler(self.settler, config.is_ignored, on_event=self._saw_event,
                                    on_error=self._handler_error)
        self.watches: dict[Root, RootWatch] = {}
        self._watches_lock = threading.Lock()
        self.overflows = OverflowCounter(lambda: self.reconciler.request("inotify overflow"))
        self.reconciler = ReconcileLoop(self._reconcile, config.reconcile_interval_s)
        self.supervisor = Supervisor(self._watch_list,
                                     lambda p: self.reconciler.request(f"observer restart {p}"),
                                     extra_checks=self._check_threads)
        self._status_stop = threading.Event()
        self._status_thread: threading.Thread | None = None
        self.heartbeat = time.monotonic()  # the status loop's last round (the watchdog's pulse)
        self.ledger_guard = LedgerFileGuard(ledger)

    @property
    def fatal(self) -> str | None:
        """Why the daemon must stop now (the ledger it writes to is gone), or None."""
        return self.ledger_guard.lost

    # -- callbacks ----------------------------------------------------------------------

    def _saw_event(self) -> None:
        self.last_event_at = time.time()

    def _handler_error(self) -> None:
        self.handler_errors += 1

    def _settle_again(self, path: str) -> None:
        self.settler.touch(path, "changed-while-reading")

    def _watch_list(self) -> list[RootWatch]:
        with self._watches_lock:
            return list(self.watches.values())

    def _check_threads(self) -> None:
        if not self.settler.is_alive():
            log.error("settle thread died: restarting it")
            self.settler.start()

    def _reconcile(self, reason: str) -> ReconcileResult:
        config = self.config
        settle_s = config.settle_s

        def changed(path: str, st: os.stat_result) -> None:
            # Quiet on disk for longer than the settle time: judge now (the worker re-stats
            # around the read). Recently touched: let the settler watch it first.
            if time.time() - max(st.st_mtime, st.st_ctime) > settle_s:
                self.processor.submit(path)
            else:
                self.settler.touch(path, "scan")

        tops = [str(r.path) for r in config.roots]
        return reconcile(config, self.ledger, tops, changed, self.processor.submit_gone,
                         recheck=reason == "start-up")

    # -- lifecycle ----------------------------------------------------------------------

    def start(self) -> None:
        log.info("provenance %s watching %s (settle %.1f s, %d workers, ledger %s)", __version__,
                 ", ".join(f"{r.path}{' [poll]' if r.poll else ''}" for r in self.config.roots),
                 self.config.settle_s, self.config.workers, redacted(self.config.effective_ledger_url))
        self.overflows.install()
        self.processor.start()
        self.settler.start()
        self._start_watches(self.config.roots)
        # Watches first, then the reconcile: a file landing during the walk is seen by both
        # (judged once more at worst), never by neither.
        self.reconciler.start()
        self.supervisor.start()
        self._status_thread = threading.Thread(target=self._status_loop, name="provenance-status",
                                               daemon=True)
        self._status_thread.start()

    def _start_watches(self, roots: tuple[Root, ...]) -> None:
        for root in roots:
            w = RootWatch(root, self.handler)
            w.start()  # a root that cannot be watched yet is retried by the supervisor
            with self._watches_lock:
                self.watches[root] = w

    def stop(self) -> None:
        log.info("stopping: no new events; finishing %d queued files", self.processor.depth)
        self.supervisor.stop()
        for w in self._watch_list():
            w.stop()
        self.reconciler.stop()
        self.settler.stop()
        self.processor.stop()
        self.overflows.uninstall()
        self._status_stop.set()
        if self._status_thread is not None:
            self._status_thread.join()
        self.write_status(running=False)
        log.info("stopped (%d files judged, %d errors)", self.processor.processed, self.errors)

    def reload(self, new: Config) -> None:
        """Apply a new configuration without losing queued or settling work."""
        if new.effective_ledger_url != self.config.effective_ledger_url:
            log.warning("ledger URL changed: restart the daemon to use it (keeping the current one)")
        self.config = new
        self.handler.is_ignored = new.is_ignored
        self.settler.is_ignored = new.is_ignored
        self.settler.settle_s = new.settle_s
        self.processor.config = new
        self.reconciler.interval_s = new.reconcile_interval_s
        with self._watches_lock:
            old_roots = set(self.watches)
        for root in old_roots - set(new.roots):
            with self._watches_lock:
                w = self.watches.pop(root)
            w.stop()
            log.info("no longer watching %s", root.path)
        self._start_watches(tuple(r for r in new.roots if r not in old_roots))
        self.reloads += 1
        log.info("configuration reloaded: watching %s, settle %.1f s",
                 ", ".join(str(r.path) for r in new.roots), new.settle_s)
        self.reconciler.request("reload")

    # -- status -------------------------------------------------------------------------

    @property
    def errors(self) -> int:
        return self.processor.errors + self.handler_errors

    def idle(self) -> bool:
        """Nothing settling, queued, being judged or reconciled (tests wait for this)."""
        return (len(self.settler) == 0 and self.processor.depth == 0 and self.processor.busy == 0
                and not self.reconciler.running and self.settler.quiet())

    def status(self, running: bool = True) -> dict[str, Any]:
        try:
            open_findings: int | None = len(self.ledger.open_findings())
        except Exception:
            open_findings = None
        last = self.reconciler.last_result
        return {
            "running": running,
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "version": __version__,
            "config": str(self.config.file) if self.config.file else None,
            "ledger": redacted(self.config.effective_ledger_url),
            "started_at": _iso(self.started_at),
            "updated_at": _iso(time.time()),
            "status_every_s": STATUS_EVERY_S,
            "roots": [{"path": w.path, "poll": w.root.poll, "alive": w.alive(), "restarts": w.restarts,
                       "error": w.last_error} for w in self._watch_list()],
            "queue_depth": self.processor.depth,
            "settling": len(self.settler),
            "in_progress": self.processor.busy,
            "files_judged": self.processor.processed,
            "findings_opened": self.processor.findings_opened,
            "last_event_at": _iso(self.last_event_at),
            "last_reconcile_at": _iso(self.reconciler.last_run_at),
            "last_reconcile": None if last is None else {
                "files": last.seen, "changed": last.changed, "removed": last.removed,
                "duration_s": round(last.duration_s, 3),
                # Folders the walk could not enter: whatever is inside them is not watched.
                "unreadable_dirs": [to_text(d) for d in last.unreadable_dirs]},
            "reconciles": self.reconciler.runs,
            "overflows": self.overflows.count,
            "observer_restarts": sum(w.restarts for w in self._watch_list()),
            "errors": self.errors,
            "reloads": self.reloads,
            "open_findings": open_findings,
            "fatal": self.fatal,
        }

    def write_status(self, running: bool = True) -> None:
        path = status_path(self.config)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(path, (json.dumps(self.status(running), indent=2) + "\n").encode("utf-8"))
        except OSError as exc:
            log.warning("cannot write %s: %s", status_path(self.config), exc)

    def alive(self) -> bool:
        """The status loop went round lately (it reads the ledger each time): what the systemd
        watchdog is told. A loop stuck on a hung ledger or a dead thread stops the pings."""
        thread_ok = self._status_thread is not None and self._status_thread.is_alive()
        return thread_ok and time.monotonic() - self.heartbeat < 3 * STATUS_EVERY_S

    def _status_loop(self) -> None:
        while True:
            try:
                self.ledger_guard.check()
                self.write_status()
            except Exception:
                log.exception("status snapshot failed (continuing)")
            self.heartbeat = time.monotonic()
            if self._status_stop.wait(STATUS_EVERY_S):
                return


def _iso(t: float | None) -> str | None:
    if t is None:
        return None
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + f".{int(t % 1 * 1000):03d}Z"


@contextmanager
def _signals(stop: threading.Event, reload: threading.Event) -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():
        yield  # signal handlers can only be set from the main thread
        return
    previous = {
        signal.SIGTERM: signal.signal(signal.SIGTERM, lambda *_: stop.set()),
        signal.SIGINT: signal.signal(signal.SIGINT, lambda *_: stop.set()),
        signal.SIGHUP: signal.signal(signal.SIGHUP, lambda *_: reload.set()),
    }
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def run(config: Config, stop_event: threading.Event | None = None,
        reload_event: threading.Event | None = None) -> None:
    """Watch `config.roots` until `stop_event` is set (or SIGTERM/SIGINT); SIGHUP reloads."""
    from provenance.ledger import Ledger

    stop = stop_event or threading.Event()
    reload = reload_event or threading.Event()
    ping_every = sd_notify.watchdog_interval_s()
    # The lock before the ledger: a second daemon must not even migrate or reconcile.
    with DaemonLock(lock_path(config)), _signals(stop, reload), \
            Ledger.open(config.effective_ledger_url) as ledger, ledger_lock(ledger, show_key(config)):
        daemon = Daemon(config, ledger)
        daemon.start()
        sd_notify.notify("READY=1", f"STATUS=watching {len(config.roots)} root(s)")
        last_ping = 0.0
        try:
            while not stop.wait(0.2):
                if daemon.fatal:
                    break
                if ping_every is not None and time.monotonic() - last_ping >= ping_every and daemon.alive():
                    sd_notify.notify("WATCHDOG=1")
                    last_ping = time.monotonic()
                if reload.is_set():
                    reload.clear()
                    sd_notify.notify("RELOADING=1")
                    try:
                        new = load_config(daemon.config.file) if daemon.config.file else daemon.config
                    except Exception as exc:
                        log.error("reload failed, keeping the running configuration: %s", exc)
                        continue
                    daemon.reload(new)
                    sd_notify.notify("READY=1")
        finally:
            sd_notify.notify("STOPPING=1", "STATUS=stopping: finishing queued files")
            daemon.stop()
        if daemon.fatal:  # exit 3 with the reason; status.json says it too
            raise LedgerLost(daemon.fatal)
