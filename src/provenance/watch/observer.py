"""One watchdog observer per root, always with an explicit event filter, and a supervisor.

inotify for local disks; `PollingObserver(timeout=poll_interval)` for roots marked
`poll = true` (NFS/SMB: inotify sees nothing written by other hosts). The supervisor
checks every few seconds that each observer thread and its emitters are alive (a raise in
either ends it silently, pipeline.md §1.9), restarts a dead one and asks for a reconcile.
Overflows are never delivered to handlers, only logged by watchdog, so a logging.Handler
on watchdog's logger counts them and asks for a reconcile too.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from watchdog.observers.api import BaseObserver
from watchdog.observers.inotify import InotifyObserver
from watchdog.observers.polling import PollingObserver

from provenance.config import Root
from provenance.watch.handler import EVENT_FILTER, WatchHandler

log = logging.getLogger(__name__)

OVERFLOW_MARK = "Inotify queue overflowed"


class RootWatch:
    """The observer for one root; `restart()` replaces it with a fresh one."""

    def __init__(self, root: Root, handler: WatchHandler) -> None:
        self.root = root
        self.handler = handler
        self.observer: BaseObserver | None = None
        self.restarts = 0
        self.last_error: str | None = None

    @property
    def path(self) -> str:
        return str(self.root.path)

    def _make(self) -> BaseObserver:
        if self.root.poll:
            return PollingObserver(timeout=self.root.poll_interval_s)
        return InotifyObserver()

    def start(self) -> bool:
        """Start watching; False (logged) when the root cannot be watched yet."""
        observer = self._make()
        try:
            observer.schedule(self.handler, self.path, recursive=True, event_filter=EVENT_FILTER)
            observer.start()
        except OSError as exc:
            self.last_error = f"cannot watch {self.path}: {exc}"
            log.error("%s", self.last_error)
            _stop_quietly(observer)
            self.observer = None
            return False
        self.observer = observer
        self.last_error = None
        return True

    def alive(self) -> bool:
        obs = self.observer
        return obs is not None and obs.is_alive() and all(e.is_alive() for e in list(obs.emitters))

    def restart(self) -> bool:
        self.restarts += 1
        if self.observer is not None:
            _stop_quietly(self.observer)
        return self.start()

    def stop(self) -> None:
        if self.observer is not None:
            _stop_quietly(self.observer)
            self.observer = None


def _stop_quietly(observer: BaseObserver) -> None:
    try:
        observer.stop()
        if observer.is_alive():
            observer.join(timeout=10)
    except Exception:  # a half-dead observer may raise while stopping; we replace it anyway
        log.debug("error while stopping an observer", exc_info=True)


class OverflowCounter(logging.Handler):
    """Sees watchdog's "Inotify queue overflowed" log lines: events were lost, reconcile."""

    def __init__(self, on_overflow: Callable[[], None]) -> None:
        super().__init__(level=logging.WARNING)
        self.count = 0
        self._on_overflow = on_overflow

    def emit(self, record: logging.LogRecord) -> None:
        try:
            if str(record.msg).startswith(OVERFLOW_MARK):
                self.count += 1
                self._on_overflow()
        except Exception:
            pass

    def install(self) -> None:
        wd = logging.getLogger("watchdog.observers")
        wd.addHandler(self)
        if wd.getEffectiveLevel() > logging.WARNING:
            wd.setLevel(logging.WARNING)

    def uninstall(self) -> None:
        logging.getLogger("watchdog.observers").removeHandler(self)


class Supervisor:
    """Restarts dead observers (and a dead settler), and asks for a reconcile after each."""

    def __init__(self, watches: Callable[[], list[RootWatch]], on_restart: Callable[[str], None],
                 interval_s: float = 2.0, extra_checks: Callable[[], None] | None = None) -> None:
        self._watches = watches
        self._on_restart = on_restart
        self._extra = extra_checks
        self.interval_s = interval_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="provenance-supervisor", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def is_alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def check(self) -> None:
        for w in self._watches():
            if w.alive():
                continue
            was_running = w.observer is not None
            if was_running:
                log.error("observer for %s died: restarting it", w.path)
            if w.restart():
                log.warning("observer for %s (re)started; reconciling", w.path)
                self._on_restart(w.path)
        if self._extra is not None:
            self._extra()

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                self.check()
            except Exception:
                log.exception("supervisor check failed (continuing)")
