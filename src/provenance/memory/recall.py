"""Content memory as one of the judge's memories: AI by derivation.

`ContentMemory.recall_many(verdicts)` (the judge's MemorySource seam) does two things for a
batch of files as read:
1. fingerprints every readable media file once per sha256 (a fingerprint already in the
   ledger is loaded, not recomputed: an unchanged package's warm gate decodes nothing) and
   stores the new ones. Files whose own evidence says AI get crop variants too: they are
   what later derivatives are matched against;
2. for a file with no AI signal of its own, matches its fingerprint against the AI assets
   in the ledger. A match (or a *possible* match in the review band, which blocks too,
   with its distance) becomes AI evidence naming the original (path, sha256, class, how it
   was known, when first seen) and the match itself; the class follows the original's.
   An approval is bound to the original's bytes, so it does not carry over, and the
   evidence says so;
3. drops a match an approver dismissed with a signed not-derived-from record for this pair
   (approvals/not_derived.py: verified against the signed approvers registry and bound to
   these bytes), saying so among the recollections. A record that does not verify, or a
   registry that cannot be authenticated, dismisses nothing: the match keeps blocking.

A file that cannot be fingerprinted keeps its verdict as read, with a note saying why: the
readers already judged it, and a media decoder's failure is not evidence of AI.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Sequence
from pathlib import Path

from provenance.approvals.not_derived import find_not_derived
from provenance.approvals.registry import ApproverRegistry
from provenance.config import Config
from provenance.errors import AssetError, ProvenanceError
from provenance.fingerprint import Fingerprint, FrameHash, Kind, fingerprint, kind_of, still
from provenance.fingerprint.display import decode
from provenance.ledger import Ledger
from provenance.memory import soft_binding, store
from provenance.memory.match import Band, Match, Memory
from provenance.model import Classification, Evidence, Recollection, Remembered, Signal, Verdict

log = logging.getLogger(__name__)

SOURCE = "content"
REFRESH_SECONDS = 10.0  # a long-lived daemon re-reads the AI originals at most this often
# (so a derivative landing in final/ within 10 s of its original's first sighting may pass
# that one event; the periodic reconcile judges it again)
_AI = (Signal.AI_GENERATED, Signal.AI_EDITED)
_NOTHING = Remembered()


def _own_ai(v: Verdict) -> bool:
    return any(e.signal in _AI for e in v.evidence)


def evidence_for(m: Match) -> Evidence:
    orig = m.original
    where = orig.paths[0] if orig.paths else "(path not recorded)"
    known = f"; {orig.tagged}" if orig.tagged else ""
    seen = f"; first seen {orig.first_seen}" if orig.first_seen else ""
    kind = "derived from" if m.band is Band.MATCH else "possibly derived from (review)"
    text = (f"{kind} {where} (sha256 {orig.sha256}, {orig.classification}{known}{seen}): {m.description}. "
            f"An approval of the original does not cover these bytes")
    signal = Signal.AI_EDITED if orig.classification == str(Classification.AI_EDITED) else Signal.AI_GENERATED
    return Evidence(SOURCE, "derived_from" if m.band is Band.MATCH else "possibly_derived_from", text, signal,
                    generator=orig.generator)


class ContentMemory:
    source = SOURCE

    def __init__(self, ledger: Ledger, *, refresh: bool = True, config: Config | None = None) -> None:
        self._ledger = ledger
        self._refresh = refresh
        self._config = config  # None: no approvers registry, so no match can be dismissed
        self._lock = threading.Lock()
        self._memory: Memory | None = None
        self._built_at = 0.0

    def memory(self) -> Memory:
        with self._lock:
            # Rebuilding reads every AI original from the ledger: at most once per REFRESH_SECONDS,
            # however many AI files a burst brings (per batch, a 3,000-file burst ran at 24 files/s).
            stale = self._refresh and time.monotonic() - self._built_at > REFRESH_SECONDS
            if self._memory is None or stale:
                self._memory = Memory(store.originals(self._ledger))
                self._built_at = time.monotonic()
            return self._memory

    def _prints(self, verdicts: Sequence[Verdict]) -> dict[str, Fingerprint | str]:
        """sha256 → fingerprint (loaded or computed and saved), or the reason it has none.

        The pictures a file's C2PA soft bindings carry join its fingerprint (soft_binding.py):
        as memory of an AI original, and as more pictures to look up for anything else; a file
        we cannot decode but whose manifest carries one is still fingerprinted by it."""
        media = {v.sha256: v for v in verdicts
                 if v.sha256 and v.readable and (kind_of(v.format) or _bound(v))}
        have: dict[str, Fingerprint | str] = dict(store.load(self._ledger, list(media)))
        new: list[Fingerprint] = []
        for sha, v in media.items():
            fp = have.get(sha)
            wants_variants = _own_ai(v)
            if isinstance(fp, Fingerprint) and not (wants_variants and lacks_variants(fp)):
                bound = _with_bound(fp, sha, _bound(v))
                if bound is not None and bound is not fp:
                    have[sha] = bound
                    new.append(bound)
                continue
            try:
                if not kind_of(v.format):
                    got = None
                else:
                    got = fingerprint(v.path, v.format, sha) if wants_variants else _plain(v, sha)
            except AssetError as exc:
                got = _with_bound(None, sha, _bound(v))
                if got is None:
                    have[sha] = exc.reason
                    continue
            got = _with_bound(got, sha, _bound(v))
            if got is not None:
                have[sha] = got
                new.append(got)
        if new:
            store.save(self._ledger, new)
        return have

    def recall_many(self, verdicts: Sequence[Verdict]) -> list[Remembered]:
        prints = self._prints(verdicts)
        dismissals = _Dismissals(self._ledger, self._config)
        out: list[Remembered] = []
        memory: Memory | None = None
        for v in verdicts:
            fp = prints.get(v.sha256 or "")
            if fp is None:
                out.append(_NOTHING)
                continue
            # What the file's fingerprint is (or why it has none): a note among its evidence,
            # not a recollection (nothing about it comes from memory).
            note = (Evidence(SOURCE, "fingerprint", f"no content fingerprint: {fp}" if isinstance(fp, str)
                             else summary(fp)),)
            if isinstance(fp, str) or _own_ai(v):
                out.append(Remembered(evidence=note))
                continue
            memory = memory or self.memory()
            matches = memory.match(fp)
            said: tuple[Recollection, ...] = ()
            if matches:
                matches, said = dismissals.apply(v, matches)
            evidence = tuple(evidence_for(m) for m in matches[:3])
            out.append(Remembered(evidence=note + evidence, recollections=tuple(
                Recollection(SOURCE, e.value) for e in evidence) + said))
        return out


def _short(code: int) -> str:
    return f"{code:064x}"[:12] + "…"


def summary(fp: Fingerprint) -> str:
    """One line for people: the kind and a short value of each part of a fingerprint."""
    parts = [str(fp.kind)]
    pictures = [f for f in fp.frames if f.hashes]
    if fp.kind is Kind.STILL and pictures:
        variants = len(pictures[0].hashes) - 1
        crops = f" (+{variants} crop variants)" if variants else ""
        parts.append(f"picture {_short(pictures[0].picture)}{crops}")
        if len(pictures) > 1:
            parts.append(f"{len(pictures) - 1} soft-bound picture(s) from its C2PA manifest")
    elif pictures:
        parts.append(f"{len(pictures)} sampled frames, first {_short(pictures[0].picture)}")
    elif fp.kind is not Kind.AUDIO:
        parts.append("no perceptual hash (a flat picture)")
    if fp.audio:
        parts.append(f"{len(fp.audio)} chromaprint items")
    if fp.audio_hash:
        informative = sum(1 for w in fp.audio_hash if w)
        parts.append(f"{len(fp.audio_hash)} audio hashes ({informative} informative)")
    if fp.duration:
        parts.append(f"{fp.duration:.1f} s")
    if fp.essence:
        parts.append(f"essence {fp.essence[:12]}…")
    return "; ".join(parts)


class _Dismissals:
    """The signed not-derived-from records for one batch (the registry loaded once, if needed)."""

    def __init__(self, ledger: Ledger, config: Config | None) -> None:
        self._ledger = ledger
        self._config = config
        self._registry: ApproverRegistry | str | None = None

    def _load(self) -> ApproverRegistry | str:
        if self._registry is None:
            assert self._config is not None
            try:
                self._registry = ApproverRegistry.load(self._config)
            except ProvenanceError as exc:
                self._registry = exc.reason
        return self._registry

    def apply(self, v: Verdict, matches: list[Match]) -> tuple[list[Match], tuple[Recollection, ...]]:
        """`matches` less those dismissed for these bytes, and what to say about it."""
        if self._config is None or v.sha256 is None:
            return matches, ()
        registry = self._load()
        if isinstance(registry, str):
            return matches, (Recollection(SOURCE, f"not-derived-from records cannot be checked: {registry}"),)
        records, rejected = find_not_derived(Path(v.path), v.sha256, self._config, self._ledger, registry)
        by_original = {r.original_sha256: r for r in records}
        kept = [m for m in matches if m.original.sha256 not in by_original]
        said = [Recollection(SOURCE, by_original[m.original.sha256].statement())
                for m in matches if m.original.sha256 in by_original]
        said += [Recollection(SOURCE, f"a not-derived-from record does not count: {why}") for why in rejected]
        return kept, tuple(said)


def _bound(v: Verdict) -> list[tuple[float, int]]:
    """The picture codes of the file's own C2PA soft bindings (the c2pa reader's evidence)."""
    return [c for e in v.evidence if e.source == "c2pa" and e.field == soft_binding.LABEL
            for c in soft_binding.decode_codes(e.value)]


def _with_bound(fp: Fingerprint | None, sha: str, codes: list[tuple[float, int]]) -> Fingerprint | None:
    """`fp` with the soft-bound pictures it lacks as more frames (`fp` itself when none are new)."""
    have = {h for f in fp.frames for h in f.hashes} if fp is not None else set()
    extra = tuple(FrameHash(t, (code,)) for t, code in codes if code not in have)
    if not extra:
        return fp
    if fp is None:
        return Fingerprint(sha, Kind.STILL, None, frames=extra)
    return dataclasses.replace(fp, frames=fp.frames + extra)


def lacks_variants(fp: Fingerprint) -> bool:
    return fp.kind is Kind.STILL and bool(fp.frames) and 0 < len(fp.frames[0].hashes) < len(still.CROPS)


def _plain(v: Verdict, sha: str) -> Fingerprint | None:
    return plain(v.path, v.format, sha)


def plain(path: str | Path, fmt: str, sha: str) -> Fingerprint | None:
    """A file with no AI signal of its own is only ever a query: its picture hash, no crop variants."""
    if kind_of(fmt) is not Kind.STILL:
        return fingerprint(path, fmt, sha)
    picture = decode(Path(path), fmt)
    return Fingerprint(sha, Kind.STILL, picture.essence,
                       frames=(FrameHash(0.0, tuple(still.hashes(picture.rgb, variants=False))),))


def content_memory(ledger: object, *, refresh: bool, config: Config | None = None) -> ContentMemory | None:
    """Content memory over `ledger` when it is a real, writable one (a stand-in has no table)."""
    return ContentMemory(ledger, refresh=refresh, config=config) if isinstance(ledger, Ledger) else None
