"""The one judging step every driver uses: watch worker, `scan`, `gate`, `inspect` (with a
ledger) and `report --disclosure`.

    read (Inspector; a batch that fails as a whole is re-read file by file)
      → remember (every MemorySource; the verdict says what came from memory)
      → policy → approvals (only when a finding could be cleared) → policy again
      → a Decision; any failure on the way is a fail-closed verdict or decision, never "clear".

Drivers keep only what is theirs: the gate its cache and package report, the daemon its
ledger writes and change checks. What the file says and what memory adds are kept apart
until `remember`, so a cache can hold the first and memory is always recalled fresh.

## Where memory enters (the seam)

A `MemorySource` is asked, for a batch of verdicts as read from the files, what it remembers
about each one: `recall_many(verdicts) -> [Remembered, ...]` (same order; an empty
`Remembered()` for nothing). Its evidence and declarations are merged into the verdict and
its `recollections` are shown by every output. `LedgerHashMemory` (these exact bytes, by
sha256) is the first source; content memory (perceptual fingerprints) is another one, passed
in `Judge(memories=[...])` or added to `default_memories`.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from provenance.classify import classify, pick_generator
from provenance.config import Config
from provenance.errors import TrustError
from provenance.identify import StatKey
from provenance.model import Classification, Recollection, Remembered, Signal, Verdict, Zone
from provenance.policy import Judgement, judge
from provenance.policy.rules import undecided_finding

if TYPE_CHECKING:
    from provenance.approvals.verify import VerifiedApproval
    from provenance.ledger import Ledger
    from provenance.ledger_view import HashRecall, LedgerView
    from provenance.pipeline import Inspector

__all__ = ["Decision", "Judge", "LedgerHashMemory", "MemorySource", "failed_verdict", "remember"]

log = logging.getLogger(__name__)

_NOTHING = Remembered()
_M = TypeVar("_M")
_AI_SIGNALS = (Signal.AI_GENERATED, Signal.AI_EDITED)


class MemorySource(Protocol):
    """One kind of memory: what it remembers about each verdict (same order, `Remembered()`
    for nothing). Called once per batch, so a source can answer with one query."""

    def recall_many(self, verdicts: Sequence[Verdict]) -> Sequence[Remembered]: ...


class LedgerHashMemory:
    """What the ledger remembers about these exact bytes (by sha256): tagged AI elsewhere,
    declared risks, before a copy lost its tag or sidecar.

    `prefetch` asks once up front which hashes the ledger remembers at all, so a short-lived
    run over many files (the gate) sends a recall query only for those; a long-lived daemon
    asks per batch instead, so it sees what was remembered after it started.
    """

    source = "ledger"

    def __init__(self, ledger: HashRecall, *, prefetch: bool = False) -> None:
        self._ledger = ledger
        self._known: set[str] | None = ledger.remembered_hashes() if prefetch else None

    def recall_many(self, verdicts: Sequence[Verdict]) -> list[Remembered]:
        hashes = [v.sha256 for v in verdicts if v.sha256 is not None]
        if self._known is not None:
            hashes = [h for h in hashes if h in self._known]
        found: Mapping[str, Remembered] = self._ledger.recall_many(hashes) if hashes else {}
        return [_said(found[v.sha256]) if v.sha256 is not None and v.sha256 in found else _NOTHING
                for v in verdicts]


def _said(recalled: Remembered) -> Remembered:
    """The ledger's memory with its statements: what it says, in words, for every output."""
    if recalled.recollections:
        return recalled
    said = []
    for e in recalled.evidence:
        what = f" these bytes as {e.value}" if e.signal in _AI_SIGNALS else f": {e.value}"
        said.append(Recollection("ledger", f"the ledger remembers{what}"))
    return dataclasses.replace(recalled, recollections=tuple(said))


def default_memories(ledger: HashRecall | None, *, prefetch: bool = False,
                     config: Config | None = None) -> list[MemorySource]:
    """The memories a judge consults when none are named: the ledger's hash memory, then
    content memory (fingerprints: AI by derivation), which a short-lived run (prefetch)
    builds once and a daemon refreshes. With `config`, content memory honours signed
    not-derived-from records (verified against its approvers registry)."""
    if ledger is None:
        return []
    from provenance.ledger import Ledger

    if config is not None:
        trust_retractions(ledger, config)
    # Content memory needs a real ledger (a stand-in has no table), and numpy and PyAV: made
    # when a batch is first recalled, so a run with nothing to recall never imports them.
    content: list[MemorySource] = []
    if isinstance(ledger, Ledger):
        real = ledger
        content.append(_Deferred(lambda: _content_memory(real, prefetch, config)))
    return [LedgerHashMemory(ledger, prefetch=prefetch), *content]


def _content_memory(ledger: Ledger, prefetch: bool, config: Config | None) -> MemorySource:
    from provenance.memory.recall import ContentMemory

    return ContentMemory(ledger, refresh=not prefetch, config=config)


class _Deferred:
    """A memory source made on its first recall (once, whichever thread asks first)."""

    def __init__(self, make: Callable[[], MemorySource]) -> None:
        self._make = make
        self._source: MemorySource | None = None
        self._lock = threading.Lock()

    def source(self) -> MemorySource:
        with self._lock:
            if self._source is None:
                self._source = self._make()
            return self._source

    def recall_many(self, verdicts: Sequence[Verdict]) -> Sequence[Remembered]:
        return self.source().recall_many(verdicts)


def trust_retractions(ledger: object, config: Config) -> None:
    """Let the ledger's memory honour `untag` retractions signed by this host's authenticated
    approvers (once per ledger). Without a registry that authenticates, none is honoured: a
    retraction lowers memory, so an unverifiable one must not (approvals/retraction.py). The
    registry is authenticated when the ledger first holds a retraction to check, not before."""
    from provenance.ledger import Ledger

    if not isinstance(ledger, Ledger) or ledger.retractions is not None:
        return
    lock = threading.Lock()
    checks: list[Callable[[Mapping[str, Any]], bool]] = []

    def check(event: Mapping[str, Any]) -> bool:
        with lock:
            if not checks:
                checks.append(_honour(config))
        return checks[0](event)

    ledger.retractions = check


def _honour(config: Config) -> Callable[[Mapping[str, Any]], bool]:
    from provenance.approvals import ApproverRegistry
    from provenance.approvals.retraction import honour
    from provenance.errors import ProvenanceError

    try:
        registry = ApproverRegistry.load(config)
    except ProvenanceError as exc:
        log.debug("untag retractions not honoured: %s", exc.reason)
        return lambda _event: False
    return honour(registry)


def remember(verdict: Verdict, recalled: Sequence[Remembered]) -> Verdict:
    """`verdict` with what memory adds: evidence (so the class follows), declarations, and
    the recollections that say so."""
    recalled = [r for r in recalled if not r.empty]
    if not recalled:
        return verdict
    evidence = verdict.evidence + tuple(e for r in recalled for e in r.evidence)
    declarations = verdict.declarations
    for r in recalled:
        declarations = declarations.merged(r.declarations)
    return dataclasses.replace(
        verdict, evidence=evidence, classification=classify(evidence), declarations=declarations,
        generator=verdict.generator or pick_generator(evidence),
        recollections=verdict.recollections + tuple(x for r in recalled for x in r.recollections))


def failed_verdict(path: str | os.PathLike[str], reason: str) -> Verdict:
    """Fail closed: a file that could not be judged at all carries the reason as an error,
    which the `unreadable` rule turns into "could not decide"."""
    return Verdict(path=str(path), sha256=None, format="unknown", size=None,
                   classification=Classification.UNKNOWN, errors=(reason,))


@dataclass(frozen=True)
class Decision:
    """One file judged in a zone: its verdict (with memory), what policy found, what
    approvals cleared, every valid approval found (cleared something or not: a two-person
    rule may still wait for the second), and why approvals that were found did not count."""

    verdict: Verdict
    zone: Zone
    judgement: Judgement
    rejections: tuple[str, ...] = ()
    approvals: tuple[VerifiedApproval, ...] = ()
    failure: str | None = None  # set when judging itself failed (the judgement is then undecided)


class Judge:
    """The judging step for one driver run. Thread-safe as long as each thread brings its
    own Inspector (readers are not thread-safe; the ledger and memories are)."""

    def __init__(self, config: Config, ledger: LedgerView | None = None,
                 memories: Sequence[MemorySource] | None = None, *, prefetch_memory: bool = False) -> None:
        self.config = config
        self.ledger = ledger
        self.memories = list(memories) if memories is not None else default_memories(
            ledger, prefetch=prefetch_memory, config=config)

    def memory_of(self, kind: type[_M]) -> _M | None:
        """The memory source of this kind this judge consults, if any (made now if deferred)."""
        for m in self.memories:
            source = m.source() if isinstance(m, _Deferred) else m
            if isinstance(source, kind):
                return source
        return None

    # -- reading -------------------------------------------------------------------------

    def read(self, inspector: Inspector, paths: Sequence[str | os.PathLike[str]],
             known_hashes: Mapping[StatKey, str] | None = None) -> list[Verdict]:
        """What the files themselves say (no memory yet), in order; never raises for a file.

        One batch first (one ExifTool round trip); if that fails as a whole, file by file, so
        only the file at fault gets a fail-closed verdict."""
        try:
            return inspector.inspect_many(paths, known_hashes)
        except Exception:
            log.exception("reading a batch of %d files failed; reading them one by one", len(paths))
        out = []
        for path in paths:
            try:
                out.extend(inspector.inspect_many([path], known_hashes))
            except Exception as exc:
                out.append(failed_verdict(path, f"internal error: {type(exc).__name__}: {exc}"))
        return out

    def remember_stream(self, verdicts: Iterable[Verdict], batch: int = 32) -> Iterator[Verdict]:
        """`remember` over a stream (e.g. `inspect_tree`), a batch at a time, order kept."""
        chunk: list[Verdict] = []
        for v in verdicts:
            chunk.append(v)
            if len(chunk) >= batch:
                yield from self.remember(chunk)
                chunk = []
        if chunk:
            yield from self.remember(chunk)

    def remember(self, verdicts: Sequence[Verdict]) -> list[Verdict]:
        """Every memory's recollections merged into the verdicts (one call per source)."""
        if not self.memories or not verdicts:
            return list(verdicts)
        per_source = [list(m.recall_many(verdicts)) for m in self.memories]
        for answers in per_source:
            if len(answers) != len(verdicts):
                raise ValueError(f"a memory answered {len(answers)} times for {len(verdicts)} files")
        return [remember(v, [answers[i] for answers in per_source]) for i, v in enumerate(verdicts)]

    # -- deciding ------------------------------------------------------------------------

    def decide(self, verdict: Verdict, zone: Zone,
               near: Sequence[str | os.PathLike[str]] | None = None,
               granted: Sequence[VerifiedApproval] = ()) -> Decision:
        """Policy on a remembered verdict; approvals are looked up only when a finding could
        be cleared: the portable approval files near each path in `near` (default: the
        verdict's path; [] for an asset at no known path) and the ledger's records, each
        verified against the verdict's bytes. `granted`: approvals the caller has already
        verified for these bytes (an IMF package's approval, bound to a set that holds them).
        A rule, lookup or verification that fails makes the file undecided."""
        try:
            places = [Path(p) for p in (near if near is not None else [verdict.path])]
            return self._decide(verdict, zone, places, granted)
        except TrustError as exc:  # who may approve cannot be established: said as it is, no traceback
            log.warning("judging %s: %s", verdict.path, exc)
            return self.undecided(verdict, zone, f"could not decide: {exc}")
        except Exception as exc:
            log.exception("judging %s failed", verdict.path)
            why = f"could not decide: internal error: {type(exc).__name__}: {exc}"
            return self.undecided(verdict, zone, why)

    def _decide(self, verdict: Verdict, zone: Zone, near: Sequence[Path],
                granted: Sequence[VerifiedApproval] = ()) -> Decision:
        judgement = judge(verdict, zone, self.config)
        if not (verdict.sha256 and any(f.clears_with for f in judgement.open)):
            return Decision(verdict, zone, judgement)  # most files: nothing an approval could change
        valid, rejections = self.approvals(verdict.sha256, near)
        valid += granted
        judgement = judge(verdict, zone, self.config, valid)
        return Decision(verdict, zone, judgement, tuple(rejections), tuple(valid))

    def approvals(self, sha256: str, near: Sequence[Path]) -> tuple[list[VerifiedApproval], list[str]]:
        """Valid approvals of these bytes found near any of `near` or in the ledger (each
        record once), and one reason per approval that did not verify."""
        from provenance.approvals import ApproverRegistry, find_approvals  # only here: crypto imports

        # Once per decision; a registry that cannot be authenticated (TrustError) is not "no
        # approvals" but "could not decide": `decide` turns it into undecided, with the reason.
        registry = ApproverRegistry.load(self.config)
        valid: dict[tuple[object, ...], VerifiedApproval] = {}
        reasons: dict[str, None] = {}
        places: Sequence[Path | None] = near or [None]  # None: the ledger's records only
        for where in places:
            found, rejected = find_approvals(where, sha256, self.config, self.ledger, registry=registry)
            for a in found:  # the ledger's copy is found once per path: keep one
                valid.setdefault((a.key_id, a.approver, a.reference, a.issued_at, a.scopes), a)
            reasons.update(dict.fromkeys(rejected))
        return list(valid.values()), list(reasons)

    def undecided(self, verdict: Verdict, zone: Zone, reason: str) -> Decision:
        """Fail closed: a decision that says "could not decide" and why."""
        finding = undecided_finding(verdict, zone, self.config, reason)
        return Decision(verdict, zone, Judgement(open=[finding]), failure=reason)

    # -- the whole step ------------------------------------------------------------------

    def judge_many(self, inspector: Inspector, items: Sequence[tuple[str | os.PathLike[str], Zone]],
                   known_hashes: Mapping[StatKey, str] | None = None) -> list[Decision]:
        """Read, remember and decide a batch of (path, zone), in order."""
        if not items:
            return []
        paths = [p for p, _ in items]
        try:
            verdicts = self.remember(self.read(inspector, paths, known_hashes))
        except Exception as exc:  # memory failed: nobody may be judged without it
            reason = f"could not recall memory: {type(exc).__name__}: {exc}"
            log.exception("recalling memory for %d files failed", len(items))
            verdicts = [failed_verdict(p, reason) for p in paths]
        return [self.decide(v, zone, [path]) for v, (path, zone) in zip(verdicts, items, strict=True)]
