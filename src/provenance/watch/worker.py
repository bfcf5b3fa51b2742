"""The work queue and its worker threads: one settled path → verdict → ledger → findings.

Each worker thread owns its Inspector (c2pa and the ExifTool process are not
thread-safe) and shares the thread-safe Ledger. Every item runs inside a firewall: one
file's exception is logged with its path and counted, and the worker takes the next item.
"""

from __future__ import annotations

import logging
import os
import queue
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from provenance.approvals import find_approvals
from provenance.config import Config
from provenance.identify import stat_key
from provenance.ledger import Ledger
from provenance.model import Classification, Finding, Verdict, Zone
from provenance.pipeline import Inspector
from provenance.policy import evaluate
from provenance.sidecars import is_sidecar
from provenance.watch.notify import notify

log = logging.getLogger(__name__)

HOST = socket.gethostname()


class ChangedWhileReading(Exception):
    """The bytes moved under us: the verdict would describe a half-written file."""


@dataclass
class Outcome:
    path: str
    recorded: bool = False
    new_findings: list[Finding] = field(default_factory=list)
    resolved: int = 0
    errors: tuple[str, ...] = ()


def _find_approvals(path: str, sha256: str, config: Config, ledger: Ledger) -> list[Any]:
    approvals, rejections = find_approvals(Path(path), sha256, config, ledger)
    for reason in rejections:
        log.warning("approval for %s not accepted: %s", path, reason)
    return list(approvals)


def resolve_stale(ledger: Ledger, path: str, current: list[Finding], reason: str) -> int:
    """Close the open findings at `path` that the latest judgement no longer raises."""
    keep = {(f.rule, f.sha256) for f in current}
    stale: dict[str, set[str]] = {}
    for f in ledger.open_findings_at(path):
        if (f.rule, f.sha256) not in keep and f.sha256 is not None:
            stale.setdefault(f.sha256, set()).add(f.rule)
    return sum(ledger.resolve_findings(sha, rules, reason, path=path) for sha, rules in stale.items())


def judge_file(inspector: Inspector, ledger: Ledger, config: Config, path: str) -> Outcome | None:
    """Inspect one settled file and bring the ledger's view of `path` up to date."""
    zone = config.zone_for(path)
    if zone is Zone.IGNORE or config.is_ignored(path) or is_sidecar(Path(path)):
        return None
    before = stat_key(path)
    if before is None:
        forget_path(ledger, path)
        return None
    verdict = inspector.inspect(path)
    if stat_key(path) != before:
        raise ChangedWhileReading(path)
    out = Outcome(path, errors=verdict.errors)
    prior = ledger.location(path)
    out.recorded = ledger.record_verdict(verdict, before if verdict.sha256 else None, zone, host=HOST)
    findings = evaluate(verdict, zone, config)
    if verdict.sha256 and any(f.clears_with for f in findings):
        # Only then can an approval matter; most files land with nothing to clear.
        findings = evaluate(verdict, zone, config, _find_approvals(path, verdict.sha256, config, ledger))
    out.new_findings = [f for f in findings if ledger.open_finding(f)]
    if prior is not None:  # a path seen for the first time has no findings to close
        out.resolved = resolve_stale(ledger, path, findings, f"no longer applies (re-judged in {zone})")
    return out


def forget_path(ledger: Ledger, path: str) -> None:
    """The file left `path` (deleted, or moved away): close its findings, mark it removed."""
    if ledger.location(path) is None:
        return
    resolve_stale(ledger, path, [], "file no longer at this path")
    ledger.record_removed(path)


def forget_tree(ledger: Ledger, folder: str) -> int:
    prefix = folder.rstrip(os.sep) + os.sep
    gone = [loc.path for loc in ledger.locations() if loc.path.startswith(prefix)]
    for path in gone:
        if not os.path.lexists(path):
            forget_path(ledger, path)
    return len(gone)


_STOP = ("stop", "")


class _BrokenInspector(Inspector):
    """Stands in for an Inspector whose readers failed to load: every verdict is an error."""

    def __init__(self, reason: str) -> None:
        self._reason = reason

    def inspect(self, path: str | os.PathLike[str]) -> Verdict:
        return Verdict(path=str(path), sha256=None, format="unknown", size=None,
                       classification=Classification.UNKNOWN, errors=(self._reason,))

    def close(self) -> None:
        pass


class Processor:
    """A bounded queue feeding `workers` threads. Backpressure blocks the settler, not watchdog."""

    def __init__(self, config: Config, ledger: Ledger, workers: int, *, queue_size: int = 2000,
                 requeue: Callable[[str], None] | None = None, keep_findings: bool = False,
                 on_done: Callable[[], None] | None = None) -> None:
        self.config = config  # swapped on SIGHUP reload
        self.ledger = ledger
        self.n_workers = max(1, workers)
        self._queue: queue.Queue[tuple[str, str]] = queue.Queue(maxsize=queue_size)
        self._requeue = requeue
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self.processed = 0
        self.errors = 0
        self.findings_opened = 0
        self.busy = 0
        self.keep_findings = keep_findings  # `scan` reports them; the daemon only logs them
        self.new_findings: list[Finding] = []
        self._on_done = on_done

    # -- producers -----------------------------------------------------------------------

    def submit(self, path: str) -> None:
        self._queue.put(("file", path))

    def submit_gone(self, path: str) -> None:
        self._queue.put(("gone", path))

    def submit_gone_tree(self, path: str) -> None:
        self._queue.put(("tree", path))

    @property
    def depth(self) -> int:
        return self._queue.qsize()

    # -- lifecycle -----------------------------------------------------------------------

    def start(self) -> None:
        for i in range(self.n_workers):
            t = threading.Thread(target=self._run, name=f"provenance-worker-{i}", daemon=True)
            t.start()
            self._threads.append(t)

    def stop(self) -> None:
        """Finish every queued item, then end the workers."""
        for _ in self._threads:
            self._queue.put(_STOP)
        for t in self._threads:
            t.join()
        self._threads.clear()

    def join_idle(self) -> None:
        self._queue.join()

    def alive(self) -> int:
        return sum(t.is_alive() for t in self._threads)

    # -- the worker thread ---------------------------------------------------------------

    def _run(self) -> None:
        try:
            inspector = Inspector(self.config.reader_settings(), memory=self.ledger,
                                  known_hash=self.ledger.known_hash)
        except Exception as exc:
            # Fail closed: judging without readers would call every file "unknown" and raise
            # no finding. Every file this worker takes is recorded as an error instead.
            log.exception("worker could not start its evidence readers")
            inspector = _BrokenInspector(f"evidence readers could not start: {exc}")
        with inspector:
            while True:
                kind, path = self._queue.get()
                try:
                    if kind == "stop":
                        return
                    with self._lock:
                        self.busy += 1
                    self._handle(inspector, kind, path)
                    if self._on_done is not None:
                        self._on_done()
                finally:
                    if kind != "stop":
                        with self._lock:
                            self.busy -= 1
                    self._queue.task_done()

    def _handle(self, inspector: Inspector, kind: str, path: str) -> None:
        try:
            if kind == "gone":
                forget_path(self.ledger, path)
                return
            if kind == "tree":
                forget_tree(self.ledger, path)
                return
            out = judge_file(inspector, self.ledger, self.config, path)
        except ChangedWhileReading:
            log.info("changed while being read, settling again: %s", path)
            if self._requeue is not None:
                self._requeue(path)
            return
        except Exception as exc:  # the firewall: one file never stops the daemon
            with self._lock:
                self.errors += 1
            log.error("failed to process %s: %s: %s", path, type(exc).__name__, exc,
                      exc_info=log.isEnabledFor(logging.DEBUG))
            return
        with self._lock:
            self.processed += 1
        if out is None:
            return
        if out.errors:
            with self._lock:
                self.errors += 1
            log.warning("could not fully read %s: %s", path, "; ".join(out.errors))
        for f in out.new_findings:
            with self._lock:
                self.findings_opened += 1
                if self.keep_findings:
                    self.new_findings.append(f)
            log.warning("FINDING %s [%s] %s: %s", f.rule, f.classification, f.path, f.message,
                        extra={"finding": f.to_dict()})
            if self.config.notify_command:
                notify(self.config.notify_command, f)
