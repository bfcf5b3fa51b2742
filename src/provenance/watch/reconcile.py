"""Reconcile a tree against the ledger: what changed, appeared or vanished unseen?

Events are lost while the daemon is down, in an inotify overflow, after an observer
restart, and on network mounts. A walk that stats everything and compares each file's
(dev, inode, size, mtime_ns, ctime_ns) and zone with the ledger's last location finds
all of it while re-hashing only what changed (O(stat), not O(bytes)). Ledger paths that
are no longer on disk are reported gone, except below a folder the walk could not read
(an unmounted NAS must not read as "every file deleted").
"""

from __future__ import annotations

import logging
import os
import stat
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from provenance.config import Config
from provenance.identify import StatKey, key_of
from provenance.walk import walk as tree_walk
from provenance.watch._loop import Loop

log = logging.getLogger(__name__)


@dataclass
class ReconcileResult:
    seen: int = 0  # regular files found
    changed: int = 0  # new or different from the ledger: handed on to be judged
    removed: int = 0  # in the ledger, no longer on disk
    unreadable_dirs: list[str] = field(default_factory=list)
    started_at: float = 0.0
    duration_s: float = 0.0


def folder_ignored(config: Config, path: str) -> bool:
    """Is everything below `path` ignored (`.provenance/**`, an ignore zone)? Judged on a
    probe child, because folder globs end in `/**` and match what is inside, not the folder."""
    return config.is_ignored(os.path.join(path, "x"))


def walk(top: str, config: Config, unreadable: list[str]) -> Iterator[tuple[str, os.stat_result]]:
    """Every regular file below `top` (`provenance.walk`: file symlinks followed, folder
    symlinks not), skipping ignored names, ignore zones and sidecars; folders that cannot be
    read are added to `unreadable` (the walk has logged each with its reason)."""
    for entry in tree_walk([top], approvals_dir=config.approvals_dir,
                           prune=lambda folder: folder_ignored(config, folder), skip=config.is_ignored):
        if entry.problem is not None:
            unreadable.append(entry.path)
            continue
        try:
            st = os.stat(entry.path)
        except OSError:
            continue  # vanished or a dangling link: nothing to judge
        if stat.S_ISREG(st.st_mode):  # a FIFO, socket or device is no asset: never opened
            yield entry.path, st


def reconcile(config: Config, ledger: Any, tops: Iterable[str],
              changed: Callable[[str, os.stat_result], None], gone: Callable[[str], None],
              progress: Callable[[int], None] | None = None, recheck: bool = False) -> ReconcileResult:
    """Walk `tops`; call `changed` for files the ledger does not know as they are now and
    `gone` for ledger paths below `tops` no longer on disk.

    `recheck` (start-up): also re-judge unchanged files recorded as AI or unreadable that
    have no open finding. A daemon killed between recording a verdict and opening its
    finding would otherwise skip the file for ever (its stat key is unchanged). Findings
    and verdicts are idempotent, so a file that rightly has none costs one more read.
    """
    result = ReconcileResult(started_at=time.time())
    t0 = time.monotonic()
    tops = [os.path.abspath(t) for t in tops]
    prefixes = [t.rstrip(os.sep) + os.sep for t in tops]
    flagged = {f.path for f in ledger.open_findings()} if recheck else set()
    known: dict[str, tuple[StatKey | None, str]] = {}
    for loc in ledger.locations():
        if any(loc.path.startswith(p) or loc.path == t for p, t in zip(prefixes, tops, strict=True)):
            suspect = recheck and (loc.sha256 is None or loc.classification.is_ai) and loc.path not in flagged
            known[loc.path] = (None if suspect else loc.stat_key, str(loc.zone))
    for top in tops:
        if not os.path.isdir(top):
            if os.path.isfile(top):
                st = os.stat(top)
                result.seen += 1
                if known.pop(top, (None, ""))[0] != key_of(st):
                    result.changed += 1
                    changed(top, st)
                continue
            log.error("root %s is not reachable: skipping it (nothing is marked removed)", top)
            result.unreadable_dirs.append(top)
            continue
        for path, st in walk(top, config, result.unreadable_dirs):
            result.seen += 1
            before = known.pop(path, None)
            if before is None or before[0] != key_of(st) or before[1] != str(config.zone_for(path)):
                result.changed += 1
                changed(path, st)
            if progress is not None and result.seen % 256 == 0:
                progress(result.seen)
    blind = tuple(d.rstrip(os.sep) + os.sep for d in result.unreadable_dirs)
    for path in known:  # what is left was not found by the walk
        if path.startswith(blind) if blind else False:
            continue
        if not os.path.lexists(path) or config.is_ignored(path):
            result.removed += 1
            gone(path)
    if progress is not None:
        progress(result.seen)
    result.duration_s = time.monotonic() - t0
    return result


class ReconcileLoop(Loop):
    """Runs reconciles on its own thread: at start-up, every `interval_s`, and on request
    (overflow, observer restart, reload). Requested runs back off like watchman's recrawl
    backoff: after `burst` runs within `window_s`, each further one waits twice as long
    (up to `max_backoff_s`), so a reconcile whose own reads trigger overflows cannot loop.
    """

    thread_name = "provenance-reconcile"

    def __init__(self, run: Callable[[str], ReconcileResult | None], interval_s: float, *,
                 burst: int = 3, window_s: float = 60.0, max_backoff_s: float = 300.0) -> None:
        super().__init__()
        self._run_once = run
        self.interval_s = interval_s
        self._burst, self._window_s, self._max_backoff_s = burst, window_s, max_backoff_s
        self._requested: str | None = None
        self._recent: list[float] = []
        self._backoff_s = 0.0
        self.runs = 0
        self.last_run_at: float | None = None  # wall clock, for status
        self.last_result: ReconcileResult | None = None
        self.running = False

    def request(self, reason: str) -> None:
        with self._cond:
            if self._requested is None:
                self._requested = reason
            self._cond.notify()

    def start(self, initial_reason: str = "start-up") -> None:
        self.request(initial_reason)
        super().start()

    def _delay_for_request(self, now: float) -> float:
        self._recent = [t for t in self._recent if now - t < self._window_s]
        if len(self._recent) < self._burst:
            self._backoff_s = 0.0
            return 0.0
        self._backoff_s = min(self._max_backoff_s, max(1.0, self._backoff_s * 2))
        return self._backoff_s

    def _run(self) -> None:
        next_periodic = time.monotonic() + self.interval_s
        while True:
            with self._cond:
                while not self._stop and self._requested is None:
                    timeout = next_periodic - time.monotonic()
                    if timeout <= 0:
                        self._requested = "periodic"
                        break
                    self._cond.wait(timeout)
                if self._stop:
                    return
                reason = self._requested or "periodic"
                scheduled = reason in ("periodic", "start-up")
                delay = 0.0 if scheduled else self._delay_for_request(time.monotonic())
                if delay:
                    log.warning("reconcile requested (%s) again within %.0f s: backing off %.1f s",
                                reason, self._window_s, delay)
                    self._cond.wait(delay)
                    if self._stop:
                        return
                self._requested = None
            self._recent.append(time.monotonic())
            self.running = True
            try:
                log.info("reconcile started (%s)", reason)
                result = self._run_once(reason)
                if result is not None:
                    self.last_result = result
                    log.info("reconcile done (%s): %d files, %d to judge, %d gone, %.1f s", reason,
                             result.seen, result.changed, result.removed, result.duration_s)
            except Exception:
                log.exception("reconcile failed (%s); will retry at the next interval", reason)
            finally:
                self.running = False
                self.runs += 1
                self.last_run_at = time.time()
            next_periodic = time.monotonic() + self.interval_s
