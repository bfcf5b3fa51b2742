"""`gate(paths, config, ledger)`: judge everything about to be delivered, as final deliverables.

Per file: the gate's own verdict cache (an unchanged dev/inode/size/mtime/ctime, never with
`verify_hashes`), else read and hash → the judging step (`provenance.judge`: memory, policy
at Zone.FINAL, approvals for what policy found) → status. An asset's identity is never taken
from the ledger's `locations` table: the gate hashes, or trusts only its own cache. Fails
closed: a file that cannot be read, a reader or rule that fails, or any unexpected exception
makes that asset undecided (exit 3), never clear.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import gc
import logging
import os
import queue
import socket
import sqlite3
import tempfile
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

from provenance.config import Config
from provenance.evidence import ReaderSettings
from provenance.formats import expected_extensions
from provenance.gate import edits as edit_files
from provenance.gate.cache import VerdictCache, cache_key, open_cache, settings_digest
from provenance.gate.digests import inputs_digest, policy_digest
from provenance.gate.masters import check_masters
from provenance.gate.result import AssetResult, FileOutcome, GateResult
from provenance.gate.walk import PackageFile, outside, walk_package
from provenance.identify import StatKey
from provenance.imf.gating import PackageReport, check_packages, package_roots
from provenance.judge import Judge, failed_verdict
from provenance.ledger_view import LedgerView
from provenance.model import Verdict, Zone
from provenance.pipeline import BATCH, Inspector
from provenance.private_state import PrivateStateUnavailable
from provenance.sequences import group
from provenance.timeline import is_timeline

Progress = Callable[[int, int, str], None]
log = logging.getLogger(__name__)


GateLedger = LedgerView  # the name callers know
_P = ParamSpec("_P")
_R = TypeVar("_R")


def gc_paused(fn: Callable[_P, _R]) -> Callable[_P, _R]:
    """Run `fn` with the cyclic garbage collector off (reference counting still frees almost
    everything a gate makes). A gate holds a verdict, a judgement and a report row per file,
    so every young-generation collection re-walks a heap that only grows: measured on a warm
    gate of 20,000 files, 35–45 % of its CPU went to collections that freed nothing (4.1 s
    user with, 2.3 s without; peak RSS the same, 232 MB). Collection resumes afterwards."""

    @functools.wraps(fn)
    def run(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        was = gc.isenabled()
        gc.disable()
        try:
            return fn(*args, **kwargs)
        finally:
            if was:
                gc.enable()

    return run


class _Siblings:
    """Folder listings, one per folder per run: whether a sidecar exists, without a stat each."""

    def __init__(self) -> None:
        self._names: dict[str, frozenset[str]] = {}

    def of(self, path: Path) -> frozenset[str] | None:
        folder = os.path.dirname(path)
        names = self._names.get(folder)
        if names is None:
            try:
                names = self._names[folder] = frozenset(os.listdir(folder or "."))
            except OSError:
                return None  # then every sidecar candidate is stat'ed
        return names


def _cached(pf: PackageFile, cache: VerdictCache, siblings: _Siblings) -> Verdict | None:
    """The cached verdict for `pf` if it is unchanged since it was read."""
    try:
        st = os.stat(pf.path)
    except OSError:
        return None  # let the read report why
    if not cache.holds(st.st_dev, st.st_ino):
        return None
    key = cache_key(pf.path, siblings.of(pf.path), st)
    if key is None:
        return None
    return cache.get(key, path=str(pf.path), link_target=os.path.realpath(pf.path) if pf.is_link else None)


def _read_batch(batch: Sequence[PackageFile], inspector: Inspector, cache: VerdictCache | None,
                judge: Judge, siblings: _Siblings) -> list[Verdict | Exception]:
    """Read a batch of files (one ExifTool round trip; every file hashed) and cache each
    verdict under the key its file had BEFORE the read: bytes that changed during the read
    no longer match that key, so the next run reads them again. A file whose key cannot be
    taken is that file's failure only (its exception, in its place)."""
    keys: list[tuple[StatKey, str] | Exception | None] = []
    for pf in batch:
        try:
            keys.append(cache_key(pf.path, siblings.of(pf.path)) if cache is not None else None)
        except Exception as exc:
            keys.append(exc)
    todo = [pf.path for pf, key in zip(batch, keys, strict=True) if not isinstance(key, Exception)]
    verdicts = iter(judge.read(inspector, todo))
    out: list[Verdict | Exception] = []
    for key in keys:
        if isinstance(key, Exception):
            out.append(key)
            continue
        verdict = next(verdicts)
        if cache is not None and key is not None:
            cache.put(key, verdict)
        out.append(verdict)
    return out


def _notes(pf: PackageFile, verdict: Verdict) -> list[str]:
    """What is worth saying about a file besides policy: links, a misleading extension."""
    notes = []
    if verdict.link_target:
        where = "outside the package" if outside(verdict.link_target, pf.root) else "inside the package"
        notes.append(f"symlink to {verdict.link_target} ({where}); the target's bytes were judged")
    expected = expected_extensions(verdict.format)  # anything else is worth a note
    ext = pf.path.suffix.lower().lstrip(".")
    if expected and ext not in expected:
        notes.append(f"content is {verdict.format} although the name ends in '.{ext or ''}'"
                     " (judged by content)")
    return notes


def judge_file(pf: PackageFile, verdict: Verdict, judge: Judge) -> FileOutcome:
    """Judge one file, as final deliverable, from its remembered verdict (read or cached)."""
    verdict = dataclasses.replace(verdict, path=pf.relpath)
    decision = judge.decide(verdict, Zone.FINAL, [pf.path])
    # A stale extra approval beside a valid one is not a reason to show.
    rejections = list(decision.rejections) if decision.judgement.blocking else []
    return FileOutcome(pf.relpath, decision.verdict, decision.judgement, rejections,
                       _notes(pf, verdict), str(pf.path))


def _crashed(pf: PackageFile, judge: Judge, exc: Exception) -> FileOutcome:
    """Fail closed: an internal error on one file is "could not decide"."""
    verdict = failed_verdict(pf.relpath, f"{type(exc).__name__}: {exc}")
    decision = judge.undecided(verdict, Zone.FINAL,
                               f"could not decide: internal error: {type(exc).__name__}: {exc}")
    return FileOutcome(pf.relpath, verdict, decision.judgement)


def _judge_safely(pf: PackageFile, verdict: Verdict, judge: Judge) -> FileOutcome:
    try:
        outcome = judge_file(pf, verdict, judge)
    except Exception as exc:
        return _crashed(pf, judge, exc)
    if outcome.verdict.link_target and not outcome.notes:
        outcome.notes.append(f"symlink to {outcome.verdict.link_target}")
    return outcome


def _judge_all(batch: Sequence[PackageFile], read: Sequence[Verdict | Exception],
               judge: Judge) -> list[FileOutcome]:
    """Memory for the batch in one call per memory, then each file decided on its own; a file
    that failed before (an exception in its place) is undecided."""
    verdicts = [v for v in read if isinstance(v, Verdict)]
    try:
        remembered = iter(judge.remember(verdicts))
    except Exception as exc:  # without memory nothing may be judged: fail closed for the batch
        return [_crashed(pf, judge, exc) for pf in batch]
    return [_judge_safely(pf, next(remembered), judge) if isinstance(v, Verdict) else _crashed(pf, judge, v)
            for pf, v in zip(batch, read, strict=True)]


def _sequence_digest(outcomes: Sequence[FileOutcome]) -> str:
    return inputs_digest((o.relpath, o.verdict.sha256) for o in outcomes)


def decision_record(result: GateResult, config: Config) -> dict[str, Any]:
    """What the ledger keeps of one gate run (shaped like an SLSA verification summary)."""
    names = {s: [a.name for a in result.assets if a.status == s]
             for s in ("blocked", "undecided", "approved")}
    return {
        "schema": "provenance.gate-decision/v1",
        "at": result.decided_at,
        "result": result.result,
        "exit_code": result.exit_code,
        "inputs_digest": result.inputs_digest,
        "policy_digest": result.policy_digest,
        "policy_version": config.policy_version,
        "config_file": str(config.file) if config.file else None,
        "host": socket.gethostname(),
        "paths": result.paths,
        "files": result.n_files,
        "assets": len(result.assets),
        "counts": result.counts,
        "summary": result.summary(),
        **names,
    }


def _open_cache(config: Config, settings: ReaderSettings) -> VerdictCache | None:
    try:
        return open_cache(config.base_dir, settings_digest(settings, config.gate_readers))
    except (OSError, sqlite3.Error, PrivateStateUnavailable) as exc:  # slower without it, never less safe
        log.warning("gate: verdict cache unavailable (%s); reading every file", exc)
        return None


def gate(paths: Sequence[str | os.PathLike[str]], config: Config, ledger: GateLedger | None, *,
         verify_hashes: bool = False, dry_run: bool = False, progress: Progress | None = None,
         inspector: Inspector | None = None, use_cache: bool = True,
         allow_missing: bool = False, extract_to: Path | None = None) -> GateResult:
    """Judge a delivery package. The result is clear only with nothing blocked and nothing undecided.

    A path that is an edit timeline (`provenance.timeline.is_timeline`) adds itself and every
    clip's media; `allow_missing` lets clips whose media is not found be listed, not undecided.
    An `.otioz`'s members are extracted under `extract_to` (an empty private folder that must
    outlive the result where reports read the files, e.g. for thumbnails; default: a temporary
    folder removed on return)."""
    timelines = [p for p in paths if is_timeline(p)]
    with contextlib.ExitStack() as stack:
        if extract_to is None:
            extract_to = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="provenance-edit-")))
        os.chmod(extract_to, 0o700)
        return _gate(paths, timelines, extract_to, config, ledger, verify_hashes=verify_hashes,
                     dry_run=dry_run, progress=progress, inspector=inspector, use_cache=use_cache,
                     allow_missing=allow_missing)


def _gate(paths: Sequence[str | os.PathLike[str]], timelines: Sequence[str | os.PathLike[str]],
          extract: Path, config: Config, ledger: GateLedger | None, *, verify_hashes: bool, dry_run: bool,
          progress: Progress | None, inspector: Inspector | None, use_cache: bool,
          allow_missing: bool) -> GateResult:
    plain = [p for p in paths if p not in timelines]
    edit_plan = edit_files.plan(timelines, config, extract)
    files = edit_files.unique([*walk_package(plain, config.approvals_dir), *edit_plan.files])
    # Symlinks stay single assets: each says where it points.
    groups = group(files, lambda f: f.relpath, groupable=lambda f: not f.is_link)
    settings = config.reader_settings()
    cache = None if (verify_hashes or not use_cache) else _open_cache(config, settings)
    # One Inspector (and ExifTool process) per worker: readers mostly wait on I/O and ExifTool.
    workers = 1 if inspector is not None else max(1, min(config.workers, len(files) or 1))
    pool: queue.SimpleQueue[Inspector] = queue.SimpleQueue()
    owned = [Inspector(settings, config.gate_readers) for _ in range(workers)] if inspector is None else []
    for insp in owned or [inspector]:  # type: ignore[list-item]
        pool.put(insp)

    # One query up front for which hashes the ledger remembers at all: a recall round trip
    # per batch would be most of a warm gate on a 20,000-file package.
    judge = Judge(config, ledger, prefetch_memory=True)
    siblings = _Siblings()

    def read_and_judge(batch: Sequence[PackageFile]) -> list[FileOutcome]:
        insp = pool.get()
        try:
            try:
                verdicts = _read_batch(batch, insp, cache, judge, siblings)
            except Exception as exc:  # fail closed: not one of these files may pass unread
                return [_crashed(pf, judge, exc) for pf in batch]
            return _judge_all(batch, verdicts, judge)
        finally:
            pool.put(insp)

    outcomes: dict[Path, FileOutcome] = {}
    done = 0

    def record(pf: PackageFile, outcome: FileOutcome) -> None:
        nonlocal done
        outcomes[pf.path] = outcome
        done += 1
        if progress is not None:
            progress(done, len(files), pf.relpath)

    try:
        # Unchanged files are answered from the cache here; a thread hop per file would cost more.
        unread = []
        hits: list[tuple[PackageFile, Verdict]] = []
        for pf in files:
            try:
                hit = _cached(pf, cache, siblings) if cache is not None else None
            except Exception as exc:
                record(pf, _crashed(pf, judge, exc))
                continue
            if hit is None:
                unread.append(pf)
            else:
                hits.append((pf, hit))
        for start in range(0, len(hits), BATCH):
            chunk = hits[start:start + BATCH]
            outs = _judge_all([pf for pf, _ in chunk], [v for _, v in chunk], judge)
            for (pf, _), outcome in zip(chunk, outs, strict=True):
                record(pf, outcome)
        batches = [unread[i:i + BATCH] for i in range(0, len(unread), BATCH)]
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="gate") as ex:
            for batch, outs in zip(batches, ex.map(read_and_judge, batches), strict=True):
                for pf, outcome in zip(batch, outs, strict=True):
                    record(pf, outcome)
    finally:
        for insp in owned:
            insp.close()
        if cache is not None:
            cache.close()
    outcomes = {pf.path: outcomes[pf.path] for pf in files}  # package order, whatever finished first
    for given, _timeline, error in edit_plan.timelines:
        own = edit_plan.own.get(given)
        if error is not None and own is not None:
            outcomes[own.path] = edit_files.unreadable(own, error, judge)
    edits, edit_assets = edit_files.results(edit_plan, {os.path.abspath(p): o for p, o in outcomes.items()},
                                            judge, allow_missing)
    for given, _timeline, error in edit_plan.timelines:
        if error is not None and given not in edit_plan.own:  # an .otiod bundle: no one file to blame
            pf = PackageFile(Path(given), Path(given).parent)
            edit_assets.append(AssetResult(pf.relpath, [edit_files.unreadable(pf, error, judge)]))
    assets = []
    for g in groups:
        outs = [outcomes[f.path] for f in g.items]
        digest = _sequence_digest(outs) if g.is_sequence else outs[0].verdict.sha256
        assets.append(AssetResult(g.name, outs, g.sequence, digest))
    assets.extend(edit_assets)
    masters = check_masters(assets, judge)  # where in each final video content memory found AI material
    packages: list[PackageReport] = []
    roots = package_roots(files)
    if roots:  # IMF packages: checked against their PKLs, approved as a set, mapped to CPL timecode
        assets, packages = check_packages(assets, roots, judge, masters)
    result = GateResult(
        assets=assets,
        paths=[os.path.abspath(p) for p in paths],
        inputs_digest=inputs_digest((o.relpath, o.verdict.sha256) for o in outcomes.values()),
        policy_digest=policy_digest(config),
        decided_at=datetime.now(UTC).isoformat(timespec="seconds"),
        dry_run=dry_run,
        policy_version=config.policy_version,
        edits=edits,
        show_dir=str(config.base_dir),
        packages=packages,
        masters=masters,
    )
    if not dry_run and ledger is not None:
        result.decision_id = ledger.record_gate_decision(decision_record(result, config))
    return result
