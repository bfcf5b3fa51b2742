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
import tempfile
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

from provenance.config import Config
from provenance.formats import expected_extensions
from provenance.gate import cache as verdict_cache
from provenance.gate import edits as edit_files
from provenance.gate.cache import Clear, VerdictCache, cache_key, open_cache, settings_digest
from provenance.gate.context import decision_context
from provenance.gate.digests import inputs_digest, policy_digest
from provenance.gate.masters import check_masters
from provenance.gate.result import AssetResult, ClearAsset, FileOutcome, GateResult, Status
from provenance.gate.walk import PackageFile, outside, walk_package
from provenance.identify import StatKey
from provenance.imf.gating import PackageReport, check_packages, package_roots
from provenance.judge import Judge, failed_verdict
from provenance.ledger_view import LedgerView
from provenance.model import Declarations, Verdict, Zone
from provenance.pipeline import BATCH, Inspector
from provenance.private_state import PrivateStateUnavailable
from provenance.sequences import find_sequences
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
    """Folder listings, one per folder per run: which sidecars exist, without a stat each."""

    def __init__(self) -> None:
        self._names: dict[str, frozenset[str] | None] = {}

    def sidecars(self, path: str) -> frozenset[str] | None:
        """The names in `path`'s folder a sidecar reader would look at (None: unknown, so
        every candidate is stat'ed)."""
        # dirname's folder at a fifth of its cost ("/x" and "x" are dirname's to answer)
        folder = path.rpartition(os.sep)[0] or os.path.dirname(path)
        try:
            return self._names[folder]
        except KeyError:
            pass
        try:
            names: frozenset[str] | None = frozenset(
                n for n in os.listdir(folder or ".") if n.endswith(verdict_cache.BESIDE))
        except OSError:
            names = None
        self._names[folder] = names
        return names


def _read_batch(batch: Sequence[PackageFile], inspector: Inspector, cache: VerdictCache | None,
                judge: Judge, siblings: _Siblings,
                stat_of: dict[str, tuple[int, int]] | None = None) -> list[Verdict | Exception]:
    """Read a batch of files (one ExifTool round trip; every file hashed) and cache each
    verdict under the key its file had BEFORE the read: bytes that changed during the read
    no longer match that key, so the next run reads them again. A file whose key cannot be
    taken is that file's failure only (its exception, in its place)."""
    keys: list[tuple[StatKey, str] | Exception | None] = []
    for pf in batch:
        try:
            keys.append(cache_key(pf.path, siblings.sidecars(pf.text)) if cache is not None else None)
        except Exception as exc:
            keys.append(exc)
    todo = [pf.path for pf, key in zip(batch, keys, strict=True) if not isinstance(key, Exception)]
    verdicts = iter(judge.read(inspector, todo))
    out: list[Verdict | Exception] = []
    for pf, key in zip(batch, keys, strict=True):
        if isinstance(key, Exception):
            out.append(key)
            continue
        verdict = next(verdicts)
        if cache is not None and key is not None:
            cache.put(key, verdict)
            if stat_of is not None:  # so the decision can be kept with the row just written
                stat_of[pf.text] = key[0][:2]
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


def _open_cache(config: Config, readers: str) -> VerdictCache | None:
    try:
        return open_cache(config.base_dir, readers)
    except (OSError, ValueError, PrivateStateUnavailable) as exc:  # slower without it, never less safe
        log.warning("gate: verdict cache unavailable (%s); reading every file", exc)
        return None


def _says_nothing(o: FileOutcome) -> bool:
    """Cleared with nothing to say: no finding (open or cleared), approval, rejection, note or
    memory, nothing in the verdict a report shows beyond its name, hash, format and class.
    Only such a decision is kept in the cache (and its report row written from the cache)."""
    v, j = o.verdict, o.judgement
    return (o.status is Status.CLEAR and not j.open and not j.cleared and not o.rejections and not o.notes
            and v.sha256 is not None and v.size is not None and not v.errors and not v.recollections
            and v.link_target is None and not v.tampered and v.declarations == Declarations())


class _Warm:
    """The unchanged files of a warm gate, answered from the cache: per file one stat, one
    dict lookup and a compare. A file whose kept decision holds under this run's context is a
    ClearAsset; one whose verdict holds is judged again from it; anything else is read."""

    def __init__(self, cache: VerdictCache, context: str | None, siblings: _Siblings) -> None:
        self.cache = cache
        self.context = context
        self.siblings = siblings
        self.rows = cache.rows
        self.stat_of: dict[str, tuple[int, int]] = {}  # path → (dev, inode), to keep decisions

    def answer(self, pf: PackageFile) -> ClearAsset | Verdict | None:
        # The one loop that runs for every file of a warm package: written out, no helpers.
        try:
            st = os.stat(pf.text)
        except OSError:
            return None  # let the read report why
        row = self.rows.get((st.st_dev, st.st_ino))
        if row is None or row[0] != st.st_size or row[1] != st.st_mtime_ns or row[2] != st.st_ctime_ns:
            return None
        names = self.siblings.sidecars(pf.text)
        aux = verdict_cache.NO_SIDECARS if names is not None and not names else \
            verdict_cache.aux_key(pf.text, names)
        if row[3] != aux:
            return None  # a sidecar came, went or changed: read the bytes again
        clear = row[6]
        link = pf.link if pf.link is not None else pf.is_link
        if clear is not None and self.context is not None and clear[0] == self.context \
                and clear[1] == pf.relpath and not link:
            return ClearAsset(pf.relpath, row[4], row[0], clear[2], clear[3], clear[4], pf.text, row,
                              self.decode)
        self.stat_of[pf.text] = (st.st_dev, st.st_ino)  # to keep its decision if it clears
        return self.cache.verdict(row, path=pf.text, link_target=os.path.realpath(pf.path) if link else None)

    def decode(self, row: object, name: str) -> Verdict:
        """A kept file's verdict, for a report that asks for its FileOutcome."""
        return self.cache.verdict(row, path=name)  # type: ignore[arg-type]

    def keep(self, cache: VerdictCache, files: Sequence[PackageFile],
             outcomes: Sequence[FileOutcome | ClearAsset]) -> None:
        """Keep each decision that cleared with nothing to say under this run's context."""
        if self.context is None:
            return
        for pf, o in zip(files, outcomes, strict=True):
            if isinstance(o, FileOutcome) and not pf.is_link and _says_nothing(o):
                dev_ino = self.stat_of.get(pf.text)
                if dev_ino is not None:
                    v = o.verdict
                    cache.mark_clear(dev_ino, v.sha256, Clear(self.context, pf.relpath, v.format,
                                                              str(v.classification), v.generator))


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
    walked = list(walk_package(plain, config.approvals_dir))
    # One walk of one folder never yields a file twice; roots that overlap or an edit's clips may.
    files = edit_files.unique([*walked, *edit_plan.files]) if len(plain) > 1 or edit_plan.files else walked
    # Symlinks stay single assets: each says where it points.
    sequences = find_sequences([f.relpath for f in files], groupable=lambda i: not files[i].is_link)
    settings = config.reader_settings()
    readers = settings_digest(settings, config.gate_readers)
    policy = policy_digest(config)
    cache = None if (verify_hashes or not use_cache) else _open_cache(config, readers)
    roots = package_roots(files)
    # Decisions are kept only for plain packages: an edit's shots and an IMF package's set
    # are judged together, so their files are always judged again (from cached verdicts).
    context = (decision_context(config, policy, readers, ledger)
               if cache is not None and not timelines and not roots else None)
    siblings = _Siblings()
    warm = _Warm(cache, context, siblings) if cache is not None else None

    # The judge (and the ledger's memory it recalls up front) only when a file needs judging.
    @functools.cache
    def judge() -> Judge:
        # One query up front for which hashes the ledger remembers at all: a recall round
        # trip per batch would be most of a warm gate on a 20,000-file package.
        return Judge(config, ledger, prefetch_memory=True)

    outcomes: list[FileOutcome | ClearAsset | None] = [None] * len(files)
    done = 0

    def record(i: int, outcome: FileOutcome | ClearAsset) -> None:
        nonlocal done
        outcomes[i] = outcome
        done += 1
        if progress is not None:
            progress(done, len(files), files[i].relpath)

    # Unchanged files are answered from the cache here; a thread hop per file would cost more.
    unread: list[int] = []
    hits: list[tuple[int, Verdict]] = []
    for i, pf in enumerate(files):
        try:
            hit = warm.answer(pf) if warm is not None else None
        except Exception as exc:
            record(i, _crashed(pf, judge(), exc))
            continue
        if hit is None:
            unread.append(i)
        elif isinstance(hit, ClearAsset):
            record(i, hit)
        else:
            hits.append((i, hit))
    owned: list[Inspector] = []
    try:
        for start in range(0, len(hits), BATCH):
            chunk = hits[start:start + BATCH]
            outs = _judge_all([files[i] for i, _ in chunk], [v for _, v in chunk], judge())
            for (i, _), outcome in zip(chunk, outs, strict=True):
                record(i, outcome)
        if unread:
            # One Inspector (and ExifTool process) per worker: readers mostly wait on I/O and ExifTool.
            workers = 1 if inspector is not None else max(1, min(config.workers, len(unread)))
            pool: queue.SimpleQueue[Inspector] = queue.SimpleQueue()
            owned = [Inspector(settings, config.gate_readers) for _ in range(workers)] \
                if inspector is None else []
            for insp in owned or [inspector]:  # type: ignore[list-item]
                pool.put(insp)

            def read_and_judge(batch: Sequence[PackageFile]) -> list[FileOutcome]:
                insp = pool.get()
                try:
                    try:
                        verdicts = _read_batch(batch, insp, cache, judge(), siblings,
                                               warm.stat_of if warm is not None else None)
                    except Exception as exc:  # fail closed: not one of these files may pass unread
                        return [_crashed(pf, judge(), exc) for pf in batch]
                    return _judge_all(batch, verdicts, judge())
                finally:
                    pool.put(insp)

            batches = [unread[i:i + BATCH] for i in range(0, len(unread), BATCH)]
            with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="gate") as ex:
                done_batches = ex.map(read_and_judge, [[files[i] for i in b] for b in batches])
                for batch, outs in zip(batches, done_batches, strict=True):
                    for i, outcome in zip(batch, outs, strict=True):
                        record(i, outcome)
    finally:
        for insp in owned:
            insp.close()
    judged: list[FileOutcome | ClearAsset] = [o for o in outcomes if o is not None]
    if len(judged) != len(files):  # every file answered exactly once, or nothing is decided
        raise AssertionError("a file of the package was not judged")

    by_path: dict[str, FileOutcome] = {}
    if timelines:  # edits find their clips' outcomes by path (no ClearAsset: no context with edits)
        by_path = {os.path.abspath(pf.path): o for pf, o in zip(files, judged, strict=True)
                   if isinstance(o, FileOutcome)}
        for given, _timeline, error in edit_plan.timelines:
            own = edit_plan.own.get(given)
            if error is not None and own is not None:
                by_path[os.path.abspath(own.path)] = edit_files.unreadable(own, error, judge())
    edits, edit_assets = (edit_files.results(edit_plan, by_path, judge(), allow_missing)
                          if timelines else ([], []))
    for given, _timeline, error in edit_plan.timelines:
        if error is not None and given not in edit_plan.own:  # an .otiod bundle: no one file to blame
            pf = PackageFile(Path(given), Path(given).parent)
            edit_assets.append(AssetResult(pf.relpath, [edit_files.unreadable(pf, error, judge())]))
    final = ([by_path.get(os.path.abspath(pf.path), o) for pf, o in zip(files, judged, strict=True)]
             if by_path else judged)
    assets: list[AssetResult] = []
    framed = {i for g in sequences.values() for i in g.items}
    for n, o in enumerate(final):
        g = sequences.get(n)
        if g is not None:  # a sequence, at the place of its first frame
            outs = [_outcome(final[i]) for i in g.items]
            assets.append(AssetResult(g.name, outs, g.sequence, _sequence_digest(outs)))
        elif n not in framed:
            assets.append(o if isinstance(o, ClearAsset)
                          else AssetResult(files[n].relpath, [o], None, o.verdict.sha256))
    if sum(a.file_count for a in assets) != len(files):  # the invariant reports depend on
        raise AssertionError("sequence grouping lost or repeated a file")
    assets.extend(edit_assets)
    judging = [a for a in assets if not isinstance(a, ClearAsset)]
    # Where in each final video content memory found AI material (a clear file has no match).
    masters = check_masters(judging, judge()) if judging else []
    packages: list[PackageReport] = []
    if roots:  # IMF packages: checked against their PKLs, approved as a set, mapped to CPL timecode
        assets, packages = check_packages(assets, roots, judge(), masters)
    if cache is not None:
        if warm is not None:
            warm.keep(cache, files, judged)  # after the masters check: its notes count
        cache.close()
    result = GateResult(
        assets=assets,
        paths=[os.path.abspath(p) for p in paths],
        inputs_digest=inputs_digest(_digest_pairs(final)),
        policy_digest=policy,
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


def _outcome(o: FileOutcome | ClearAsset) -> FileOutcome:
    """A file's FileOutcome, built from a ClearAsset when its decision came from the cache."""
    return o.files[0] if isinstance(o, ClearAsset) else o


def _digest_pairs(judged: Sequence[FileOutcome | ClearAsset]) -> list[tuple[str, str | None]]:
    return [(o.name, o.sha256) if isinstance(o, ClearAsset) else (o.relpath, o.verdict.sha256)
            for o in judged]
