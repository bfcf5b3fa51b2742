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
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from provenance.config import Config
from provenance.identify import StatKey, stat_key
from provenance.judge import Judge, failed_verdict
from provenance.ledger import Ledger
from provenance.model import Finding, Verdict, Zone
from provenance.pipeline import BATCH, Inspector
from provenance.private_keys import is_private_key
from provenance.sidecars import is_sidecar
from provenance.watch.notify import Notifier

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
    (result,) = judge_files(inspector, ledger, config, [path])
    if isinstance(result, Exception):
        raise result
    return result


def judge_files(inspector: Inspector, ledger: Ledger, config: Config,
                paths: Sequence[str]) -> list[Outcome | Exception | None]:
    """`judge_file` for a batch of distinct settled paths, in order: one ExifTool round trip
    and one ledger transaction for the batch instead of one each per file.

    Per path: None (ignored, or gone before it was read), an Outcome, or the exception its
    own handling raised (ChangedWhileReading among them); one file's failure after the
    shared steps never costs the others theirs. An exception from a shared step (recalling,
    recording) propagates: the caller then judges the files one by one. Reading, memory and
    policy are the one judging step (`provenance.judge`); recording is the daemon's own.
    """
    judge = Judge(config, ledger)
    results: dict[str, Outcome | Exception | None] = {}
    live: list[tuple[str, Zone, StatKey]] = []
    for path in paths:
        zone = config.zone_for(path)
        if zone is Zone.IGNORE or config.is_ignored(path) or is_sidecar(path, config.approvals_dir):
            results[path] = None
            continue
        before = stat_key(path)
        if before is None:
            forget_path(ledger, path)
            results[path] = None
            continue
        if is_private_key(path):
            # A secret: its path and hash never go into the ledger (which artists can read),
            # and an earlier record of it is closed. Said loudly: it should not be here at all.
            log.warning("%s is a private key: not recorded in the ledger; keep keys outside the "
                        "show tree", path)
            forget_path(ledger, path)
            results[path] = None
            continue
        live.append((path, zone, before))
    if live:
        # The daemon writes the locations table, so it may take unchanged files' hashes from it.
        known = ledger.known_hashes([key for _, _, key in live])
        verdicts = judge.remember(judge.read(inspector, [path for path, _, _ in live], known))
        steady = []
        for (path, zone, before), verdict in zip(live, verdicts, strict=True):
            if stat_key(path) != before:
                results[path] = ChangedWhileReading(path)
            else:
                steady.append((path, zone, before, verdict))
        priors = ledger.locations_at([path for path, *_ in steady])
        recorded = ledger.record_verdicts(
            [(verdict, before if verdict.sha256 else None, zone) for _, zone, before, verdict in steady],
            host=HOST)
        for (path, zone, _, verdict), was_recorded in zip(steady, recorded, strict=True):
            try:
                results[path] = _conclude(ledger, judge, verdict, zone, path in priors, was_recorded)
            except Exception as exc:  # this file's policy or findings step; the batch goes on
                results[path] = exc
    return [results[path] for path in paths]


def _conclude(ledger: Ledger, judge: Judge, verdict: Verdict, zone: Zone, seen_before: bool,
              recorded: bool) -> Outcome:
    """Policy on a recorded verdict: open its new findings, close the ones it no longer raises."""
    path = verdict.path
    decision = judge.decide(verdict, zone)
    # A failure to judge is counted and logged as an error, and stays open as a finding.
    out = Outcome(path, recorded=recorded, errors=verdict.errors + tuple(filter(None, [decision.failure])))
    for reason in decision.rejections:
        log.warning("approval for %s not accepted: %s", path, reason)
    findings = decision.judgement.open
    out.new_findings = [f for f in findings if ledger.open_finding(f)]
    if seen_before:  # a path seen for the first time has no findings to close
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

    def inspect_many(self, paths: Sequence[str | os.PathLike[str]],
                     known_hashes: Mapping[StatKey, str] | None = None) -> list[Verdict]:
        return [failed_verdict(path, self._reason) for path in paths]

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
        self.notifier: Notifier | None = None  # started with the workers

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
        # The hook and apprise run on the notifier's own thread, never on a worker.
        self.notifier = Notifier(lambda: (self.config.notify_command, self.config.notify_urls))
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
        if self.notifier is not None:
            self.notifier.close()
            self.notifier = None

    def join_idle(self) -> None:
        self._queue.join()

    def alive(self) -> int:
        return sum(t.is_alive() for t in self._threads)

    # -- the worker thread ---------------------------------------------------------------

    def _run(self) -> None:
        try:
            inspector = Inspector(self.config.reader_settings(), self.config.readers,
                                  known_hash=self.ledger.known_hash)
        except Exception as exc:
            # Fail closed: judging without readers would call every file "unknown" and raise
            # no finding. Every file this worker takes is recorded as an error instead.
            log.exception("worker could not start its evidence readers")
            inspector = _BrokenInspector(f"evidence readers could not start: {exc}")
        with inspector:
            while True:
                batch = self._take()
                try:
                    files = [path for kind, path in batch if kind == "file"]
                    with self._lock:
                        self.busy += len(batch) - (batch[-1][0] == "stop")
                    if files:
                        self._handle_files(inspector, list(dict.fromkeys(files)))
                    for kind, path in batch:
                        if kind in ("gone", "tree"):
                            self._handle(inspector, kind, path)
                    if self._on_done is not None:
                        self._on_done()
                finally:
                    with self._lock:
                        self.busy -= len(batch) - (batch[-1][0] == "stop")
                    for _ in batch:
                        self._queue.task_done()
                if batch[-1][0] == "stop":
                    return

    def _take(self) -> list[tuple[str, str]]:
        """The next item, plus the files queued right behind it (a burst is judged in
        batches; a lone file is not held back waiting for company). A batch ends before any
        item that is not a file, so removals and stops keep their place in line."""
        batch = [self._queue.get()]
        while batch[-1][0] == "file" and len(batch) < BATCH:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            batch.append(item)
        return batch

    def _handle_files(self, inspector: Inspector, paths: list[str]) -> None:
        if len(paths) == 1:
            self._handle(inspector, "file", paths[0])
            return
        try:
            results = judge_files(inspector, self.ledger, self.config, paths)
        except Exception as exc:
            log.warning("batch of %d files failed (%s: %s); judging them one by one",
                        len(paths), type(exc).__name__, exc)
            for path in paths:
                self._handle(inspector, "file", path)
            return
        for path, result in zip(paths, results, strict=True):
            self._after(path, result)

    def _handle(self, inspector: Inspector, kind: str, path: str) -> None:
        result: Outcome | Exception | None
        try:
            if kind == "gone":
                forget_path(self.ledger, path)
                return
            if kind == "tree":
                forget_tree(self.ledger, path)
                return
            result = judge_file(inspector, self.ledger, self.config, path)
        except Exception as exc:  # the firewall: one file never stops the daemon
            result = exc
        self._after(path, result)

    def _after(self, path: str, result: Outcome | Exception | None) -> None:
        """Count, log and notify one file's result (or its failure)."""
        if isinstance(result, ChangedWhileReading):
            log.info("changed while being read, settling again: %s", path)
            if self._requeue is not None:
                self._requeue(path)
            return
        if isinstance(result, Exception):
            with self._lock:
                self.errors += 1
            log.error("failed to process %s: %s: %s", path, type(result).__name__, result,
                      exc_info=result if log.isEnabledFor(logging.DEBUG) else None)
            return
        with self._lock:
            self.processed += 1
        out = result
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
            if self.notifier is not None:
                self.notifier.submit(f)
