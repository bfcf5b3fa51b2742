"""The one place the stages meet: path → identify → evidence → classify → Verdict.

`Inspector` keeps the readers (and the ExifTool process inside one of them) alive
across many files; use it as a context manager. It reports what the files themselves say:
memory (what the ledger remembers about these bytes) and policy are added by the one judging
step, `provenance.judge`, which every driver uses.
"""

from __future__ import annotations

import concurrent.futures as cf
import functools
import logging
import os
import queue
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TypeVar

from provenance.classify import classify, pick_generator
from provenance.config import CONFIG_NAME, STATE_DIR
from provenance.errors import AssetError
from provenance.evidence import EvidenceReader, ReaderOutput, ReaderSettings
from provenance.evidence.registry import DEFAULT_READERS, check_known, load_readers
from provenance.identify import KnownHash, StatKey, identify
from provenance.model import (
    Asset,
    C2paSummary,
    Classification,
    Declarations,
    Evidence,
    Verdict,
)
from provenance.walk import walk

log = logging.getLogger(__name__)
T = TypeVar("T")

# The backstop limit is a little above the readers' own (ExifTool kills itself at the
# limit): a reader that ignores its limit is abandoned, never waited for.
_BACKSTOP_GRACE_S = 5.0
# Files per batch: enough to amortise ExifTool's round trip, small enough that a batch a
# hostile file spoils (and that is then re-read file by file) stays cheap.
BATCH = 32


class _ReaderThread:
    """One daemon thread running the calls handed to it, in order.

    Not a ThreadPoolExecutor: its workers are joined at interpreter exit, so one read that
    never returns kept the whole process alive after its answer was printed (a gate that said
    UNDECIDED and then hung, with the hook in front of the transfer waiting on it). A daemon
    thread left behind ends with the process.
    """

    def __init__(self, name: str) -> None:
        self._calls: queue.SimpleQueue[tuple[Callable[[], object], cf.Future[object]] | None] = \
            queue.SimpleQueue()
        self.thread = threading.Thread(target=self._run, name=name, daemon=True)
        self.thread.start()

    def submit(self, fn: Callable[..., T], *args: object) -> cf.Future[T]:
        future: cf.Future[T] = cf.Future()
        self._calls.put((functools.partial(fn, *args), future))  # type: ignore[arg-type]
        return future

    def shutdown(self) -> None:
        """End the thread after the calls already handed to it (it never waits for them)."""
        self._calls.put(None)

    def _run(self) -> None:
        while (item := self._calls.get()) is not None:
            call, future = item
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(call())
            except BaseException as exc:  # handed to whoever waits on the future
                future.set_exception(exc)


# Reader threads that overran and were left behind: `abandoned_readers()` tells the CLI that
# the process must end now, whatever those threads (or a library's exit hooks) would wait for.
_ABANDONED: list[threading.Thread] = []
_ABANDONED_LOCK = threading.Lock()


def abandoned_readers() -> int:
    """How many abandoned reader threads are still running (stuck in a read or a close)."""
    with _ABANDONED_LOCK:
        _ABANDONED[:] = [t for t in _ABANDONED if t.is_alive()]
        return len(_ABANDONED)


class _Unstarted:
    """Stands in for a reader whose construction overran or failed: every file it would have
    read carries the reason, so the verdict is an error (fail closed), never a silent gap."""

    def __init__(self, name: str, reason: str) -> None:
        self.name = name
        self.reason = reason

    def read(self, asset: Asset) -> ReaderOutput:
        return ReaderOutput(errors=[self.reason])

    def close(self) -> None:
        pass


class _Slot:
    """One reader on its own worker thread, so a stuck read can be abandoned.

    A reader is only ever called from its one worker thread (c2pa objects must not be used
    from two threads at once). When a read overruns, the worker and that reader instance
    are abandoned and a fresh instance on a fresh thread takes over for the next file.
    """

    def __init__(self, name: str, settings: ReaderSettings) -> None:
        self.name = name
        self._settings = settings
        # Started on first use: a gate whose files are all answered from its cache (or an
        # empty package) never loads the C2PA library nor starts a thread per reader.
        self._started: tuple[_ReaderThread, EvidenceReader] | None = None

    @property
    def reader(self) -> EvidenceReader:
        return self._start()[1]

    @property
    def _worker(self) -> _ReaderThread:
        return self._start()[0]

    def _start(self) -> tuple[_ReaderThread, EvidenceReader]:
        if self._started is None:
            self._started = self._spawn()
        return self._started

    def _spawn(self) -> tuple[_ReaderThread, EvidenceReader]:
        worker = _ReaderThread(f"reader-{self.name}")
        started = worker.submit(lambda: load_readers([self.name], self._settings)[0])
        try:
            return worker, started.result(timeout=self._backstop)
        except cf.TimeoutError:
            self._leave_behind(worker)
            log.error("reader %s did not start within %.0fs; abandoning it", self.name, self._backstop)
            return (_ReaderThread(f"reader-{self.name}-unstarted"),
                    _Unstarted(self.name, f"did not start within {self._backstop:g}s"))
        except BaseException:
            # The caller's failure (the read that needed this reader fails closed); the next
            # read tries again on a fresh thread.
            worker.shutdown()
            raise

    @property
    def _backstop(self) -> float:
        return self._settings.time_limit_s + _BACKSTOP_GRACE_S

    @staticmethod
    def _leave_behind(worker: _ReaderThread) -> None:
        worker.shutdown()
        with _ABANDONED_LOCK:
            _ABANDONED.append(worker.thread)

    def _abandon(self, what: object) -> None:
        """The reader overran its backstop: leave its thread behind; the next read starts a
        fresh one."""
        log.warning("reader %s overran %.0fs on %s; abandoning it", self.name, self._backstop, what)
        if self._started is not None:
            self._leave_behind(self._started[0])
        self._started = None

    def read(self, asset: Asset) -> ReaderOutput:
        future = self._worker.submit(self.reader.read, asset)
        try:
            return future.result(timeout=self._backstop)
        except cf.TimeoutError:
            self._abandon(asset.path)
            return ReaderOutput(errors=[f"timed out after {self._backstop:g}s"])
        except Exception as exc:  # a reader bug must cost one file, not the whole run
            log.exception("reader %s crashed on %s", self.name, asset.path)
            return ReaderOutput(errors=[f"internal error: {type(exc).__name__}: {exc}"])

    def read_many(self, assets: Sequence[Asset]) -> list[ReaderOutput]:
        """Read a batch in one hand-off to the reader's thread.

        A reader with `read_many` (ExifTool: one round trip for the batch) is asked first,
        under one backstop limit; if it declines (None) or fails, each file is read alone so
        a hostile file costs only itself. Otherwise the thread reads the files one after
        another and hands each result back as it finishes, so the backstop stays per file.
        """
        if not assets:
            return []
        many = getattr(self.reader, "read_many", None)
        if many is not None and len(assets) > 1:
            future = self._worker.submit(many, assets)
            try:
                batch_outs = future.result(timeout=self._backstop)
                if batch_outs is not None:
                    return list(batch_outs)
            except cf.TimeoutError:
                self._abandon(f"a batch of {len(assets)} (reading them one by one)")
            except Exception:
                log.exception("reader %s failed on a batch of %d; reading them one by one",
                              self.name, len(assets))
            return [self.read(a) for a in assets]
        outs: list[ReaderOutput] = []
        while len(outs) < len(assets):
            rest = assets[len(outs):]
            # A fresh queue per hand-off: an abandoned thread that wakes up later must not
            # slip its stale answer in front of the next file's.
            results: queue.SimpleQueue[ReaderOutput] = queue.SimpleQueue()
            self._worker.submit(self._read_each, self.reader, rest, results)
            for asset in rest:
                try:
                    outs.append(results.get(timeout=self._backstop))
                except queue.Empty:
                    self._abandon(asset.path)
                    outs.append(ReaderOutput(errors=[f"timed out after {self._backstop:g}s"]))
                    break
        return outs

    def _read_each(self, reader: EvidenceReader, assets: Sequence[Asset],
                   results: queue.SimpleQueue[ReaderOutput]) -> None:
        for asset in assets:
            try:
                results.put(reader.read(asset))
            except Exception as exc:  # a reader bug must cost one file, not the whole batch
                log.exception("reader %s crashed on %s", self.name, asset.path)
                results.put(ReaderOutput(errors=[f"internal error: {type(exc).__name__}: {exc}"]))

    def close(self) -> None:
        if self._started is None:
            return  # never started: nothing to close
        worker, reader = self._started
        self._started = None
        try:
            worker.submit(reader.close).result(timeout=self._settings.time_limit_s)
        except cf.TimeoutError:
            log.warning("closing reader %s overran %.0fs; abandoning it", self.name,
                        self._settings.time_limit_s)
            self._leave_behind(worker)
            return
        except Exception:
            log.exception("closing reader %s failed", self.name)
        worker.shutdown()


class Inspector:
    def __init__(
        self,
        settings: ReaderSettings | None = None,
        readers: Sequence[str] = DEFAULT_READERS,
        known_hash: KnownHash | None = None,
    ) -> None:
        self.settings = settings or ReaderSettings()
        check_known(readers)  # a misnamed reader is refused now, not at the first file
        self._slots = [_Slot(name, self.settings) for name in readers]
        self._known_hash = known_hash

    def __enter__(self) -> Inspector:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        for slot in self._slots:
            slot.close()

    @property
    def readers(self) -> list[EvidenceReader]:
        return [slot.reader for slot in self._slots]

    def inspect(self, path: str | os.PathLike[str]) -> Verdict:
        """Judge one file. Never raises for a bad file: the Verdict carries the errors."""
        return self.inspect_many([path])[0]

    def inspect_many(self, paths: Sequence[str | os.PathLike[str]],
                     known_hashes: Mapping[StatKey, str] | None = None) -> list[Verdict]:
        """Judge a batch, in order: each reader takes the whole batch in one hand-off (and
        ExifTool reads it in one round trip), which is most of the cost on small files.
        `known_hashes`, when given, replaces the per-file `known_hash` lookup: the caller
        fetched the answers for the whole batch at once (a miss only means hashing again)."""
        known = self._known_hash if known_hashes is None else known_hashes.get
        assets: list[Asset | None] = []
        failed: dict[int, Verdict] = {}
        for i, path in enumerate(paths):
            try:
                assets.append(identify(path, known))
            except AssetError as exc:
                assets.append(None)
                failed[i] = Verdict(path=str(path), sha256=None, format="unknown", size=None,
                                    classification=Classification.UNKNOWN, errors=(exc.reason,))
        outputs: list[list[tuple[str, ReaderOutput]]] = [[] for _ in paths]
        readable = [(i, a) for i, a in enumerate(assets) if a is not None]
        for slot in self._slots if readable else ():  # nothing to read: no reader is started
            has_work = getattr(slot.reader, "has_work", None)
            todo = [(i, a) for i, a in readable if has_work is None or has_work(a)]
            # Most files in a delivery need no hand-off to some readers at all.
            for (i, _), out in zip(todo, slot.read_many([a for _, a in todo]), strict=True):
                outputs[i].append((slot.name, out))
        return [failed[i] if asset is None else _assemble(path, asset, outputs[i])
                for i, (path, asset) in enumerate(zip(paths, assets, strict=True))]

    def inspect_paths(self, paths: Iterable[str | os.PathLike[str]], batch: int = BATCH) -> Iterator[Verdict]:
        chunk: list[Path] = []
        for path in iter_files(paths):
            chunk.append(path)
            if len(chunk) >= batch:
                yield from self.inspect_many(chunk)
                chunk = []
        if chunk:
            yield from self.inspect_many(chunk)


def _assemble(path: str | os.PathLike[str], asset: Asset,
              outputs: Sequence[tuple[str, ReaderOutput]]) -> Verdict:
    evidence: list[Evidence] = []
    errors: list[str] = []
    c2pa = C2paSummary()
    declarations = Declarations()
    for name, out in outputs:
        evidence.extend(out.evidence)
        errors.extend(f"{name}: {e}" for e in out.errors)
        if out.c2pa is not None and (out.c2pa.present or out.c2pa.remote_url):
            c2pa = out.c2pa
        if out.declarations is not None:
            declarations = declarations.merged(out.declarations)
    return Verdict(
        path=str(path),
        sha256=asset.sha256,
        format=asset.format,
        size=asset.size,
        classification=classify(evidence),
        evidence=tuple(evidence),
        c2pa=c2pa,
        declarations=declarations,
        errors=tuple(errors),
        generator=pick_generator(evidence),
        link_target=str(asset.link_target) if asset.link_target else None,
    )


def inspect_tree(paths: Iterable[str | os.PathLike[str]], settings: ReaderSettings | None = None,
                 workers: int = 2, batch: int = BATCH,
                 readers: Sequence[str] = DEFAULT_READERS) -> Iterator[Verdict]:
    """Every file below `paths`, judged by `workers` Inspectors side by side, in walk order.

    While one Inspector waits on its ExifTool process the other runs Python (hashing,
    sniffing, classifying), so two keep both cores busy. At most two batches per worker
    are in flight: a tree of a million files is streamed, not held.
    """
    if workers <= 1:
        with Inspector(settings, readers) as inspector:
            yield from inspector.inspect_paths(paths, batch)
        return
    idle: queue.SimpleQueue[Inspector] = queue.SimpleQueue()
    inspectors = [Inspector(settings, readers) for _ in range(workers)]
    for inspector in inspectors:
        idle.put(inspector)

    def judge(chunk: list[Path]) -> list[Verdict]:
        inspector = idle.get()
        try:
            return inspector.inspect_many(chunk)
        finally:
            idle.put(inspector)

    pending: deque[cf.Future[list[Verdict]]] = deque()
    try:
        with cf.ThreadPoolExecutor(max_workers=workers, thread_name_prefix="inspect") as ex:
            try:
                chunk: list[Path] = []
                for path in iter_files(paths):
                    chunk.append(path)
                    if len(chunk) >= batch:
                        pending.append(ex.submit(judge, chunk))
                        chunk = []
                        while len(pending) >= 2 * workers:
                            yield from pending.popleft().result()
                if chunk:
                    pending.append(ex.submit(judge, chunk))
                while pending:
                    yield from pending.popleft().result()
            finally:  # the consumer stopped early: do not judge what nobody will read
                for future in pending:
                    future.cancel()
    finally:
        for inspector in inspectors:
            inspector.close()


def iter_files(paths: Iterable[str | os.PathLike[str]]) -> Iterator[Path]:
    """Files named directly, and every file below named folders (`provenance.walk`), with
    the show's provenance.toml and its .provenance/ state folder skipped.

    A folder the walk could not enter and a symlink to a folder are yielded too: judging
    them gives a verdict whose error says why, so they are reported, never dropped.
    """
    for entry in walk(paths, prune=lambda folder: os.path.basename(folder) == STATE_DIR,
                      skip=lambda file: os.path.basename(file) == CONFIG_NAME):
        yield Path(entry.path)


def inspect(path: str | os.PathLike[str], settings: ReaderSettings | None = None) -> Verdict:
    """Judge one file with the default readers (a convenience for pipeline code)."""
    with Inspector(settings) as inspector:
        return inspector.inspect(path)
