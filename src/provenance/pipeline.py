"""The one place the stages meet: path → identify → evidence → classify → Verdict.

`Inspector` keeps the readers (and the ExifTool process inside one of them) alive
across many files; use it as a context manager. Policy is not applied here: the
watch daemon and the gate call `provenance.policy` on the verdicts.
"""

from __future__ import annotations

import concurrent.futures as cf
import logging
import os
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Protocol

from provenance.classify import classify, pick_generator
from provenance.config import CONFIG_NAME, STATE_DIR
from provenance.errors import AssetError
from provenance.evidence import EvidenceReader, ReaderOutput, ReaderSettings
from provenance.evidence.registry import DEFAULT_READERS, load_readers
from provenance.identify import KnownHash, identify
from provenance.model import Asset, C2paSummary, Classification, Declarations, Evidence, Verdict
from provenance.sidecars import is_sidecar

log = logging.getLogger(__name__)

# The backstop limit is a little above the readers' own (ExifTool kills itself at the
# limit): a reader that ignores its limit is abandoned, never waited for.
_BACKSTOP_GRACE_S = 5.0


class _Slot:
    """One reader on its own worker thread, so a stuck read can be abandoned.

    A reader is only ever called from its one worker thread (c2pa objects must not be used
    from two threads at once). When a read overruns, the worker and that reader instance
    are abandoned and a fresh instance on a fresh thread takes over for the next file.
    """

    def __init__(self, name: str, settings: ReaderSettings) -> None:
        self.name = name
        self._settings = settings
        self._spawn()

    def _spawn(self) -> None:
        self._pool = cf.ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"reader-{self.name}")
        self.reader: EvidenceReader = self._pool.submit(
            lambda: load_readers([self.name], self._settings)[0]).result()

    def read(self, asset: Asset) -> ReaderOutput:
        limit = self._settings.time_limit_s + _BACKSTOP_GRACE_S
        future = self._pool.submit(self.reader.read, asset)
        try:
            return future.result(timeout=limit)
        except cf.TimeoutError:
            log.warning("reader %s overran %.0fs on %s; abandoning it", self.name, limit,
                        asset.path)
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._spawn()
            return ReaderOutput(errors=[f"timed out after {limit:g}s"])
        except Exception as exc:  # a reader bug must cost one file, not the whole run
            log.exception("reader %s crashed on %s", self.name, asset.path)
            return ReaderOutput(errors=[f"internal error: {type(exc).__name__}: {exc}"])

    def close(self) -> None:
        try:
            self._pool.submit(self.reader.close).result(timeout=self._settings.time_limit_s)
        except Exception:
            log.exception("closing reader %s failed", self.name)
        self._pool.shutdown(wait=False)


class HashMemory(Protocol):
    """What the ledger remembers about a content hash (e.g. it was tagged AI elsewhere)."""

    def recall(self, sha256: str) -> Sequence[Evidence]: ...


class Inspector:
    def __init__(
        self,
        settings: ReaderSettings | None = None,
        readers: Sequence[str] = DEFAULT_READERS,
        memory: HashMemory | None = None,
        known_hash: KnownHash | None = None,
    ) -> None:
        self.settings = settings or ReaderSettings()
        self._slots = [_Slot(name, self.settings) for name in readers]
        self._memory = memory
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
        try:
            asset = identify(path, self._known_hash)
        except AssetError as exc:
            return Verdict(path=str(path), sha256=None, format="unknown", size=None,
                           classification=Classification.UNKNOWN, errors=(exc.reason,))
        evidence: list[Evidence] = []
        errors: list[str] = []
        c2pa = C2paSummary()
        declarations = Declarations()
        for slot in self._slots:
            has_work = getattr(slot.reader, "has_work", None)
            if has_work is not None and not has_work(asset):
                continue  # most files in a delivery need no thread hand-off at all
            out = slot.read(asset)
            evidence.extend(out.evidence)
            errors.extend(f"{slot.name}: {e}" for e in out.errors)
            if out.c2pa is not None and (out.c2pa.present or out.c2pa.remote_url):
                c2pa = out.c2pa
            if out.declarations is not None:
                declarations = declarations.merged(out.declarations)
        if self._memory is not None:
            evidence.extend(self._memory.recall(asset.sha256))
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

    def inspect_paths(self, paths: Iterable[str | os.PathLike[str]]) -> Iterator[Verdict]:
        for path in iter_files(paths):
            yield self.inspect(path)


def iter_files(paths: Iterable[str | os.PathLike[str]]) -> Iterator[Path]:
    """Files named directly, and every file below named folders (sorted; sidecars, the
    show's provenance.toml and its .provenance/ state folder skipped).

    Directory symlinks are not followed (a loop must not hang a walk); file symlinks are
    yielded so the caller judges the target's bytes and can report the link.
    """
    for raw in paths:
        p = Path(raw)
        if p.is_dir() and not p.is_symlink():
            for root, dirs, files in os.walk(p):
                dirs[:] = sorted(d for d in dirs if d != STATE_DIR)
                for name in sorted(files):
                    child = Path(root) / name
                    if name != CONFIG_NAME and not is_sidecar(child):
                        yield child
                for name in dirs:
                    if (Path(root) / name).is_symlink():
                        yield Path(root) / name  # reported as "not a regular file"/loop
        else:
            yield p


def inspect(path: str | os.PathLike[str], settings: ReaderSettings | None = None) -> Verdict:
    """Judge one file with the default readers (a convenience for pipeline code)."""
    with Inspector(settings) as inspector:
        return inspector.inspect(path)
