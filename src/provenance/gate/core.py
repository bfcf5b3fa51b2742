"""`gate(paths, config, ledger)`: judge everything about to be delivered, as final deliverables.

Per file: identify (hash reused only for an unchanged dev/inode/size/mtime/ctime, never with
`verify_hashes`) → evidence → Verdict → policy at Zone.FINAL → approvals for what policy
found → status. Fails closed: a file that cannot be read, a reader or rule that fails, or
any unexpected exception makes that asset undecided (exit 3), never clear.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import queue
import socket
import sqlite3
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from provenance.classify import classify, pick_generator
from provenance.config import Config
from provenance.evidence import ReaderSettings
from provenance.evidence.registry import DEFAULT_READERS
from provenance.gate.cache import VerdictCache, cache_key, open_cache, settings_digest
from provenance.gate.digests import inputs_digest, policy_digest
from provenance.gate.result import AssetResult, FileOutcome, GateResult
from provenance.gate.sequences import group_files
from provenance.gate.walk import PackageFile, outside, walk_package
from provenance.ledger_view import LedgerView
from provenance.model import Classification, Remembered, Verdict, Zone
from provenance.pipeline import BATCH, Inspector
from provenance.policy import judge
from provenance.policy.rules import UNREADABLE, RuleContext
from provenance.private_state import PrivateStateUnavailable

# Extensions each sniffed format is normally delivered under; anything else is worth a note.
_EXTENSIONS = {"jpeg": {"jpg", "jpeg", "jpe"}, "png": {"png"}, "tiff": {"tif", "tiff", "dng"},
               "mp4": {"mp4", "m4v"}, "mov": {"mov", "qt", "mp4"}, "exr": {"exr"}, "dpx": {"dpx"},
               "wav": {"wav", "bwf"}, "mxf": {"mxf"}, "webp": {"webp"}, "gif": {"gif"}, "heic": {"heic"},
               "avif": {"avif"}, "psd": {"psd", "psb"}, "pdf": {"pdf"}, "mp3": {"mp3"}}

Progress = Callable[[int, int, str], None]
log = logging.getLogger(__name__)


GateLedger = LedgerView  # the name callers know

class _Memory:
    """Ledger recall, with one query up front for which hashes the ledger remembers at all:
    a recall round trip per file would be most of a warm gate on a 20,000-file package."""

    def __init__(self, ledger: GateLedger | None) -> None:
        self.ledger = ledger
        self.remembered = ledger.remembered_hashes() if ledger is not None else set()

    def recall(self, sha256: str) -> Remembered | None:
        if self.ledger is None or sha256 not in self.remembered:
            return None
        return self.ledger.recall_many([sha256]).get(sha256)


def _with_memory(verdict: Verdict, memory: _Memory) -> Verdict:
    """Add what the ledger remembers about these bytes (e.g. tagged AI, with declared risks,
    before a copy lost its tag or sidecar)."""
    recalled = memory.recall(verdict.sha256) if verdict.sha256 is not None else None
    if recalled is None:
        return verdict
    evidence = verdict.evidence + recalled.evidence
    return dataclasses.replace(verdict, evidence=evidence, classification=classify(evidence),
                               declarations=verdict.declarations.merged(recalled.declarations),
                               generator=verdict.generator or pick_generator(evidence))


def _undecided(verdict: Verdict, config: Config, reason: str) -> FileOutcome:
    from provenance.policy import Judgement  # local: only on the failure path

    ctx = RuleContext(verdict, Zone.FINAL, config)
    return FileOutcome(verdict.path, verdict, Judgement(open=[ctx.finding("rule-error", UNREADABLE, reason)]))


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
    key = cache_key(pf.path, siblings.of(pf.path))
    hit = cache.get(key) if key is not None else None
    if hit is None:
        return None
    link = os.path.realpath(pf.path) if pf.path.is_symlink() else None
    return dataclasses.replace(hit, path=str(pf.path), link_target=link)


def _read_batch(batch: Sequence[PackageFile], inspector: Inspector, cache: VerdictCache | None,
                ledger: GateLedger | None, siblings: _Siblings) -> list[Verdict]:
    """Read a batch of files (one ExifTool round trip, one known-hash query) and cache each
    verdict under the key its file had BEFORE the read: bytes that changed during the read
    no longer match that key, so the next run reads them again."""
    keys = [cache_key(pf.path, siblings.of(pf.path)) for pf in batch]
    known = None if ledger is None else ledger.known_hashes([k[0] for k in keys if k is not None])
    verdicts = inspector.inspect_many([pf.path for pf in batch], known)
    if cache is not None:
        for key, verdict in zip(keys, verdicts, strict=True):
            if key is not None:
                cache.put(key, verdict)
    return verdicts


def judge_file(pf: PackageFile, read: Verdict, config: Config, ledger: GateLedger | None,
               memory: _Memory | None = None) -> FileOutcome:
    """Judge one file from what was read of it (or what the cache remembers of it)."""
    verdict = _with_memory(read, memory or _Memory(ledger))
    verdict = dataclasses.replace(verdict, path=pf.relpath)
    notes = []
    if verdict.link_target:
        where = "outside the package" if outside(verdict.link_target, pf.root) else "inside the package"
        notes.append(f"symlink to {verdict.link_target} ({where}); the target's bytes were judged")
    expected = _EXTENSIONS.get(verdict.format)
    ext = pf.path.suffix.lower().lstrip(".")
    if expected and ext not in expected:
        notes.append(f"content is {verdict.format} although the name ends in '.{ext or ''}'"
                     " (judged by content)")
    judgement = judge(verdict, Zone.FINAL, config)
    rejections: list[str] = []
    if any(f.clears_with for f in judgement.open) and verdict.sha256:
        # Approvals can only change clearable findings, so only look them up then.
        from provenance.approvals import find_approvals

        valid, rejections = find_approvals(pf.path, verdict.sha256, config, ledger)
        judgement = judge(verdict, Zone.FINAL, config, valid)
        if not judgement.blocking:
            rejections = []  # a stale extra approval beside a valid one is not a reason to show
    return FileOutcome(pf.relpath, verdict, judgement, list(rejections), notes, str(pf.path))


def _crashed(pf: PackageFile, config: Config, exc: Exception) -> FileOutcome:
    """Fail closed: an internal error on one file is "could not decide"."""
    verdict = Verdict(path=pf.relpath, sha256=None, format="unknown", size=None,
                      classification=Classification.UNKNOWN, errors=(f"{type(exc).__name__}: {exc}",))
    return _undecided(verdict, config, f"could not decide: internal error: {type(exc).__name__}: {exc}")


def _judge_safely(pf: PackageFile, read: Verdict, config: Config, ledger: GateLedger | None,
                  memory: _Memory) -> FileOutcome:
    try:
        outcome = judge_file(pf, read, config, ledger, memory)
    except Exception as exc:
        return _crashed(pf, config, exc)
    if outcome.verdict.link_target and not outcome.notes:
        outcome.notes.append(f"symlink to {outcome.verdict.link_target}")
    return outcome


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
        return open_cache(config.base_dir, settings_digest(settings, DEFAULT_READERS))
    except (OSError, sqlite3.Error, PrivateStateUnavailable) as exc:  # slower without it, never less safe
        log.warning("gate: verdict cache unavailable (%s); reading every file", exc)
        return None


def gate(paths: Sequence[str | os.PathLike[str]], config: Config, ledger: GateLedger | None, *,
         verify_hashes: bool = False, dry_run: bool = False, progress: Progress | None = None,
         inspector: Inspector | None = None, use_cache: bool = True) -> GateResult:
    """Judge a delivery package. The result is clear only with nothing blocked and nothing undecided."""
    files = list(walk_package(paths, config.approvals_dir))
    groups = group_files(files)
    # Identity never from the ledger's `locations` table, which whoever writes the show can edit
    # (issue 10 item 4): only the gate's own MAC'd cache, or hashing the bytes.
    known = None
    settings = config.reader_settings()
    cache = None if (verify_hashes or not use_cache) else _open_cache(config, settings)
    # One Inspector (and ExifTool process) per worker: readers mostly wait on I/O and ExifTool.
    workers = 1 if inspector is not None else max(1, min(config.workers, len(files) or 1))
    pool: queue.SimpleQueue[Inspector] = queue.SimpleQueue()
    owned = [Inspector(settings, known_hash=known) for _ in range(workers)] if inspector is None else []
    for insp in owned or [inspector]:  # type: ignore[list-item]
        pool.put(insp)

    memory = _Memory(ledger)
    siblings = _Siblings()

    def read_and_judge(batch: Sequence[PackageFile]) -> list[FileOutcome]:
        insp = pool.get()
        try:
            return [_judge_safely(pf, v, config, ledger, memory) if isinstance(v, Verdict)
                    else _crashed(pf, config, v)
                    for pf, v in zip(batch, read_safely(batch, insp), strict=True)]
        finally:
            pool.put(insp)

    def read_safely(batch: Sequence[PackageFile], insp: Inspector) -> list[Verdict | Exception]:
        """Read a batch; if that fails as a whole, read file by file so that only the file at
        fault is undecided (fail closed for it, never "clear")."""
        ledger_for_known = None if known is None else ledger
        try:
            return list(_read_batch(batch, insp, cache, ledger_for_known, siblings))
        except Exception:
            log.exception("gate: reading a batch of %d files failed; reading them one by one", len(batch))
        out: list[Verdict | Exception] = []
        for pf in batch:
            try:
                out.extend(_read_batch([pf], insp, cache, ledger_for_known, siblings))
            except Exception as exc:
                out.append(exc)
        return out

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
        for pf in files:
            try:
                hit = _cached(pf, cache, siblings) if cache is not None else None
            except Exception as exc:
                record(pf, _crashed(pf, config, exc))
                continue
            if hit is None:
                unread.append(pf)
            else:
                record(pf, _judge_safely(pf, hit, config, ledger, memory))
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
    assets = []
    for g in groups:
        outs = [outcomes[f.path] for f in g.files]
        digest = _sequence_digest(outs) if g.is_sequence else outs[0].verdict.sha256
        assets.append(AssetResult(g.name, outs, g.frames, g.missing_frames, digest))
    result = GateResult(
        assets=assets,
        paths=[os.path.abspath(p) for p in paths],
        inputs_digest=inputs_digest((o.relpath, o.verdict.sha256) for o in outcomes.values()),
        policy_digest=policy_digest(config),
        decided_at=datetime.now(UTC).isoformat(timespec="seconds"),
        dry_run=dry_run,
        policy_version=config.policy_version,
    )
    if not dry_run and ledger is not None:
        result.decision_id = ledger.record_gate_decision(decision_record(result, config))
    return result
