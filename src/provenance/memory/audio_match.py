"""Find a sound in the AI originals' dense audio hashes (fingerprint/audio_hash.py).

Two stages, so a lookup does not slide the query along every stored second of sound:
1. candidates: each 32-bit hash is split into two 16-bit halves, each half a key of one
   sorted table of (original, position). A transcode leaves a half intact often enough
   (at 7 % bit error, 30 % of halves; at 15 %, 7 %) that the true alignment gets many votes
   from a query of a second or more, while unrelated halves scatter theirs over every offset.
   Halves stored more than `_STOP` times (a steady pattern) are not looked up: they vote for
   everything and tell nothing.
2. verification: the share of differing bits over the aligned overlap, counting only hashes
   that carry information on both sides (QUIET frames, silence and steady tones, never
   count), at the best few offsets of each original and their neighbours.

A match needs at least `MIN_COMPARED` compared hashes (~1 s of sound) and a bit error rate of
at most `MAX_BER`. Measured (bench/robustness.py, bench/README.md): derivatives of the
corpus's AI sounds (MP3, AAC, 3 s and 6 s trims) sit at 0–8 %, Opus at 32 kbit/s at 15 %;
unrelated real sound (the corpus's non-AI tracks and Debian's sound themes and voice
prompts, best offset of every pair) at 24 % and above. A sound with less than a second of
informative hashes is matched by its essence only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from provenance.fingerprint.audio_hash import FRAME, HOP_SECONDS, QUIET, RATE

MIN_COMPARED = 43  # hashes compared (both sides informative): ~1 s
MAX_BER = 0.18
CANDIDATES = 3  # best-voted offsets verified per original (each with its two neighbours)
MAX_ORIGINALS = 32  # originals verified on one vote: those with the most
_HALF = 1 << 16


@dataclass(frozen=True)
class AudioHit:
    original: int  # index into the originals the index was built from
    ber: float
    compared: int  # hashes compared
    length: int  # hashes in the query
    query_range: tuple[float, float]  # seconds
    original_range: tuple[float, float]


def _keys(words: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(keys, positions) of the informative hashes: high half as is, low half offset by 2^16
    (int32: 24 bytes a stored hash with its owner, 3.7 MB an hour of AI sound)."""
    pos = np.flatnonzero(words != QUIET).astype(np.int32)
    w = words[pos].astype(np.int64)
    return (np.concatenate([w >> 16, (w & 0xFFFF) + _HALF]).astype(np.int32),
            np.concatenate([pos, pos]))


class AudioHashIndex:
    def __init__(self, hashes: Sequence[Sequence[int]]) -> None:
        self._hashes = [np.array(h, dtype=np.uint32) for h in hashes]
        keys, owners, positions = [], [], []
        for n, words in enumerate(self._hashes):
            k, p = _keys(words)
            keys.append(k)
            positions.append(p)
            owners.append(np.full(len(k), n, dtype=np.int32))
        key = np.concatenate(keys) if keys else np.zeros(0, dtype=np.int32)
        order = np.argsort(key, kind="stable")
        self._key = key[order]
        self._owner = (np.concatenate(owners) if owners else np.zeros(0, dtype=np.int32))[order]
        self._pos = (np.concatenate(positions) if positions else np.zeros(0, dtype=np.int32))[order]
        # ~1 posting per key on average at 18 hours of stored sound; a key held far more
        # often than that is a pattern, not an identity.
        self._stop = 64 + len(self._key) // 512

    def __len__(self) -> int:
        return len(self._key)

    def search(self, query: Sequence[int], duration: float | None = None) -> list[AudioHit]:
        """Every original the query's sound is found in, best first (one hit per original)."""
        q = np.array(query, dtype=np.uint32)
        if not len(self._key) or int((q != QUIET).sum()) < MIN_COMPARED:
            return []
        qkey, qpos = _keys(q)
        lo = np.searchsorted(self._key, qkey, "left")
        hi = np.searchsorted(self._key, qkey, "right")
        counts = hi - lo
        keep = (counts > 0) & (counts <= self._stop)
        lo, counts, qpos = lo[keep], counts[keep], qpos[keep]
        total = int(counts.sum())
        if not total:
            return []
        first = np.repeat(lo - (np.cumsum(counts) - counts), counts) + np.arange(total)
        owner = self._owner[first].astype(np.int64)
        offset = self._pos[first].astype(np.int64) - np.repeat(qpos, counts)  # stored - query position
        codes, votes = np.unique(owner * (1 << 32) + (offset + (1 << 31)), return_counts=True)
        owners, shifts = codes >> 32, (codes & 0xFFFFFFFF) - (1 << 31)
        # Per original its best-voted offsets. Verified: every original whose best offset has
        # two votes or more, and the most voted ones even with one: a lookup's cost does not grow
        # with the single stray votes that many stored sounds collect, and no original with
        # agreeing votes is passed over (however many decoys outvote it).
        order = np.lexsort((-votes, owners))
        owners, shifts, votes = owners[order], shifts[order], votes[order]
        starts = np.flatnonzero(np.r_[True, owners[1:] != owners[:-1]])
        ends = np.r_[starts[1:], len(owners)]
        top = np.argsort(-votes[starts], kind="stable")
        chosen = sorted(set(top[:MAX_ORIGINALS].tolist()) | set(np.flatnonzero(votes[starts] >= 2).tolist()))
        hits = []
        for g in chosen:
            start, end = int(starts[g]), int(ends[g])
            best = shifts[start:min(end, start + CANDIDATES)]
            tried = sorted({int(s) + d for s in best for d in (-1, 0, 1)})
            hit = self._verify(int(owners[start]), q, tried, duration)
            if hit is not None:
                hits.append(hit)
        return sorted(hits, key=lambda h: h.ber)

    def _verify(self, n: int, q: np.ndarray, shifts: list[int], duration: float | None) -> AudioHit | None:
        stored = self._hashes[n]
        best: tuple[float, int, int, int, int] | None = None  # (ber, compared, q0, q1, shift)
        for shift in shifts:  # stored[i + shift] against q[i]
            q0, q1 = max(0, -shift), min(len(q), len(stored) - shift)
            if q1 - q0 < MIN_COMPARED:
                continue
            a, b = q[q0:q1], stored[q0 + shift:q1 + shift]
            both = (a != QUIET) & (b != QUIET)
            compared = int(both.sum())
            if compared < MIN_COMPARED:
                continue
            ber = float(np.bitwise_count(a[both] ^ b[both]).sum()) / (32 * compared)
            if best is None or ber < best[0]:
                best = (ber, compared, q0, q1, shift)
        if best is None or best[0] > MAX_BER:
            return None
        ber, compared, q0, q1, shift = best
        # Hash i compares frames i and i + 1: samples [i * HOP, (i + 1) * HOP + FRAME), so
        # hashes q0..q1-1 cover [q0 * HOP, q1 * HOP + FRAME).
        q_end = q1 * HOP_SECONDS + FRAME / RATE
        if duration is not None:
            q_end = min(duration, q_end)
        return AudioHit(n, ber, compared, len(q), (q0 * HOP_SECONDS, q_end),
                        ((q0 + shift) * HOP_SECONDS, (q1 + shift) * HOP_SECONDS + FRAME / RATE))
