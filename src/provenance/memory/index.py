"""Near-match search over 256-bit picture hashes: multi-index hashing in numpy.

Measured against the alternatives at 10^6 stored hashes (bench/fingerprint.py, bench/
README.md): a numpy brute-force scan of 256-bit codes takes ~100 ms a lookup, faiss's
IndexBinaryFlat ~50 ms, its IndexBinaryMultiHash range search 20–150 ms and its binary
HNSW took minutes to build. A match radius of ~40 of 256 bits is too wide for any hashing
scheme on the full code, so the search runs in two stages:
1. candidates: multi-index hashing (Norouzi et al.) on the first 64 bits (ISCC's first
   8×8 DCT block, the coarsest and most stable one), split into four 16-bit chunks, each
   chunk a sorted table. Two codes within `PREFIX_RADIUS` = 15 bits of each other agree to
   within 3 bits on at least one chunk (pigeonhole), so probing the 697 chunk values
   within 3 bits of the query's finds every such candidate, exactly, not approximately;
2. verification: the full 256-bit distance of those candidates.
A derivative whose 64-bit prefix moved more than 15 bits is not found even if its 256-bit
distance is small; bench/robustness.py measures recall through this index, not beside it.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import combinations

import numpy as np

WORDS = 4  # 256 bits as four uint64, most significant first
CHUNK_BITS = 16
CHUNKS = 4
CHUNK_RADIUS = 3
PREFIX_RADIUS = CHUNKS * (CHUNK_RADIUS + 1) - 1  # 15: guaranteed by the pigeonhole argument


def _flip_masks(radius: int = CHUNK_RADIUS) -> np.ndarray:
    masks = [0]
    for r in range(1, radius + 1):
        masks.extend(sum(1 << b for b in bits) for bits in combinations(range(CHUNK_BITS), r))
    return np.array(masks, dtype=np.int64)


_MASKS = _flip_masks()


def to_words(code: int) -> np.ndarray:
    return np.array([(code >> (64 * (WORDS - 1 - i))) & 0xFFFFFFFFFFFFFFFF for i in range(WORDS)],
                    dtype=np.uint64)


def codes_array(codes: Sequence[int]) -> np.ndarray:
    out = np.zeros((len(codes), WORDS), dtype=np.uint64)
    for i, code in enumerate(codes):
        out[i] = to_words(code)
    return out


class HashIndex:
    """Immutable index of (code, id); `search` returns every id within a radius, with distances."""

    def __init__(self, codes: np.ndarray, ids: np.ndarray, chunk_radius: int = CHUNK_RADIUS) -> None:
        # chunk_radius < CHUNK_RADIUS is for bench/fingerprint.py's comparison only: it probes
        # fewer chunk values but guarantees only CHUNKS * (chunk_radius + 1) - 1 prefix bits.
        self._masks = _MASKS if chunk_radius == CHUNK_RADIUS else _flip_masks(chunk_radius)
        self.prefix_radius = CHUNKS * (chunk_radius + 1) - 1
        self.codes = np.ascontiguousarray(codes, dtype=np.uint64).reshape(-1, WORDS)
        self.ids = np.asarray(ids, dtype=np.int64)
        prefix = self.codes[:, 0]
        self._order: list[np.ndarray] = []
        self._sorted_prefix: list[np.ndarray] = []  # prefix[order]: the candidate test reads it in order
        self._offsets: list[np.ndarray] = []
        for c in range(CHUNKS):
            keys = ((prefix >> np.uint64(CHUNK_BITS * c)) & np.uint64(0xFFFF)).astype(np.int64)
            order = np.argsort(keys, kind="stable")
            counts = np.bincount(keys, minlength=1 << CHUNK_BITS)
            self._order.append(order)
            self._sorted_prefix.append(prefix[order])
            self._offsets.append(np.concatenate(([0], np.cumsum(counts))))

    @classmethod
    def build(cls, items: Sequence[tuple[int, int]]) -> HashIndex:
        """From (code, id) pairs."""
        return cls(codes_array([code for code, _ in items]), np.array([i for _, i in items], dtype=np.int64))

    def __len__(self) -> int:
        return len(self.ids)

    def _candidates(self, prefix: np.uint64) -> np.ndarray:
        """Rows whose first 64 bits are within PREFIX_RADIUS of `prefix` (each once)."""
        found = []
        for c in range(CHUNKS):
            key = int(prefix >> np.uint64(CHUNK_BITS * c)) & 0xFFFF
            probes = key ^ self._masks
            starts = self._offsets[c][probes]
            sizes = self._offsets[c][probes + 1] - starts
            total = int(sizes.sum())
            if total == 0:
                continue
            # Every position in the ranges [start, start + size), without a Python loop.
            nonempty = sizes > 0
            first, length = starts[nonempty], sizes[nonempty]
            shift = first - np.concatenate(([0], np.cumsum(length)[:-1]))
            positions = np.arange(total) + np.repeat(shift, length)
            near = np.bitwise_count(self._sorted_prefix[c][positions] ^ prefix) <= self.prefix_radius
            found.append(self._order[c][positions[near]])
        if not found:
            return np.empty(0, dtype=np.int64)
        # A row near on several chunks is found once per chunk: few rows survive, so sort them.
        rows = np.sort(np.concatenate(found))
        return rows[np.concatenate(([True], rows[1:] != rows[:-1]))] if len(rows) else rows

    def search(self, code: int, radius: int) -> list[tuple[int, int]]:
        """(id, distance) of every stored code within `radius` of `code` whose first 64 bits
        are within PREFIX_RADIUS; nearest first."""
        if not len(self.ids):
            return []
        query = to_words(code)
        rows = self._candidates(query[0])
        if not len(rows):
            return []
        dist = np.bitwise_count(self.codes[rows] ^ query).sum(axis=1)
        keep = dist <= radius
        order = np.argsort(dist[keep], kind="stable")
        return [(int(i), int(d)) for i, d in zip(self.ids[rows[keep]][order], dist[keep][order], strict=True)]

    def search_brute(self, code: int, radius: int) -> list[tuple[int, int]]:
        """The same question answered by scanning every code: the baseline the bench compares."""
        if not len(self.ids):
            return []
        dist = np.bitwise_count(self.codes ^ to_words(code)).sum(axis=1)
        rows = np.flatnonzero(dist <= radius)
        order = np.argsort(dist[rows], kind="stable")
        return [(int(self.ids[r]), int(dist[r])) for r in rows[order]]
