"""Which AI original, if any, a fingerprint was derived from, and how sure that is.

`Memory(originals)` indexes the AI assets' fingerprints once; `match(fingerprint)` answers
for one asset, strongest first:
- essence: the same decoded pixels / samples / packets (a metadata change, a lossless
  re-wrap) — certain;
- still against a picture (a still's crop variants, or a video's sampled frames: a frame
  grab): the 256-bit distance, a *match* up to MATCH_RADIUS, a *possible* derivative up to
  REVIEW_RADIUS;
- video against pictures: each sampled frame is looked up; frames of one original that
  agree on one time offset (or any frames of a still rendered into a clip) make a
  segment with its time range in both;
- audio: chromaprint sub-fingerprints aligned on the offset they vote for, a match when
  the bit error rate over the overlap is low enough; and the dense audio hash (43 words a
  second, memory/audio_match.py), which finds sounds and trims of a few seconds that
  chromaprint's ~8 items a second cannot tell from unrelated sound.
Thresholds come from bench/robustness.py (bench/README.md has the table and margins).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from provenance.fingerprint.audio import AUDIO_STEP
from provenance.fingerprint.model import Fingerprint, Kind
from provenance.fingerprint.video import INTERVAL
from provenance.memory.audio_match import AudioHashIndex
from provenance.memory.index import HashIndex
from provenance.memory.store import Original

MATCH_RADIUS = 56  # of 256 bits: a derivative
REVIEW_RADIUS = 68  # up to here: a possible derivative, for review
FRAME_RADIUS = MATCH_RADIUS  # one sampled video frame against a stored picture
MIN_SEGMENT_FRAMES = 3  # sampled frames agreeing on one offset before a clip counts as found
OFFSET_TOLERANCE = INTERVAL * 1.5  # seconds: samples of two encodes fall at different times
AUDIO_MIN_ITEMS = 16  # ~2 s of overlap
# A query shorter than AUDIO_MIN_ITEMS may match over its whole length, but never over fewer
# than this many sub-fingerprints (~1 s; chromaprint gives ~11 for 4 s of sound, 3 for 3 s),
# nor over a stretch of one repeated value (a tone, near-silence): three identical items of a
# 3 s trim matched unrelated sound at 0 % bit error and blocked a camera clip. A clip too short
# for the floor is matched only whole, against a whole original of its length (`whole`).
AUDIO_FLOOR_ITEMS = 8
AUDIO_MIN_DISTINCT = 2
AUDIO_MAX_BER = 0.30  # unrelated audio sits near 0.5


class Band(StrEnum):
    MATCH = "match"
    POSSIBLE = "possible"


@dataclass(frozen=True)
class Match:
    original: Original
    band: Band
    how: str  # "essence", "picture", "frames", "audio"
    distance: int | None  # bits of 256 for pictures; None otherwise
    description: str  # the human sentence for the evidence
    query_range: tuple[float, float] | None = None
    original_range: tuple[float, float] | None = None


def clock(seconds: float) -> str:
    minutes, rest = divmod(max(0.0, seconds), 60)
    return f"{int(minutes):02d}:{rest:04.1f}"


def _span(a: float, b: float) -> str:
    return f"{clock(a)}–{clock(b)}"


class Memory:
    def __init__(self, originals: Iterable[Original]) -> None:
        self.originals: list[Original] = list(originals)
        self._essence: dict[str, int] = {}
        items: list[tuple[int, int]] = []
        self._entries: list[tuple[int, float]] = []  # entry id -> (original, time)
        self._audio: dict[int, list[tuple[int, int]]] = defaultdict(list)
        for n, orig in enumerate(self.originals):
            fp = orig.fingerprint
            if fp.essence:
                self._essence.setdefault(fp.essence, n)
            for frame in fp.frames:
                for code in frame.hashes:
                    items.append((code, len(self._entries)))
                    self._entries.append((n, frame.t))
            for pos, value in enumerate(fp.audio):
                self._audio[value].append((n, pos))
        self.index = HashIndex.build(items)
        self._audio_hash = AudioHashIndex([o.fingerprint.audio_hash for o in self.originals])

    def __len__(self) -> int:
        return len(self.originals)

    def match(self, fp: Fingerprint) -> list[Match]:
        """Matches for one fingerprint, strongest first; an original never matches itself."""
        out: list[Match] = []
        found: set[int] = set()
        n = self._essence.get(fp.essence) if fp.essence else None
        if n is not None and self.originals[n].sha256 != fp.sha256:
            out.append(Match(self.originals[n], Band.MATCH, "essence", 0, self._same_essence(fp.kind)))
            found.add(n)
        if fp.kind is Kind.STILL and fp.frames:
            out.extend(self._still(fp, found))
        elif fp.kind is Kind.VIDEO:
            out.extend(self._video(fp, found))
        if fp.kind in (Kind.VIDEO, Kind.AUDIO):  # a video's sound is matched like a sound file
            # The dense hash first: it gives the finer time range; chromaprint then finds what it
            # alone can (originals stored before the dense hash existed, version 2).
            if fp.audio_hash:
                out.extend(self._audio_hash_match(fp, found))
            if fp.audio:
                out.extend(self._audio_match(fp, found))
        return out

    @staticmethod
    def _same_essence(kind: Kind) -> str:
        return {Kind.STILL: "same decoded pixels", Kind.VIDEO: "same video and audio streams",
                Kind.AUDIO: "same decoded audio samples"}[kind]

    def _hits(self, code: int, radius: int, query_sha: str) -> dict[int, tuple[int, float]]:
        """Best (distance, original time) per original within `radius`."""
        best: dict[int, tuple[int, float]] = {}
        for entry, dist in self.index.search(code, radius):
            n, t = self._entries[entry]
            if self.originals[n].sha256 == query_sha:
                continue
            if n not in best or dist < best[n][0]:
                best[n] = (dist, t)
        return best

    def _still(self, fp: Fingerprint, found: set[int]) -> list[Match]:
        # Frame 0 is the picture; more frames are pictures its C2PA soft bindings carry.
        best: dict[int, tuple[int, float]] = {}
        for frame in fp.frames:
            if not frame.hashes:
                continue  # a flat picture has no perceptual identity
            for n, hit in self._hits(frame.picture, REVIEW_RADIUS, fp.sha256).items():
                if n not in best or hit[0] < best[n][0]:
                    best[n] = hit
        out = []
        for n, (dist, t) in sorted(best.items(), key=lambda kv: kv[1][0]):
            if n in found:
                continue
            orig = self.originals[n]
            band = Band.MATCH if dist <= MATCH_RADIUS else Band.POSSIBLE
            where = (f"the frame at {clock(t)} of {orig.name}" if orig.fingerprint.kind is Kind.VIDEO
                     else orig.name)
            out.append(Match(orig, band, "picture", dist,
                             f"looks like {where}: perceptual distance {dist} of 256",
                             original_range=(t, t) if orig.fingerprint.kind is Kind.VIDEO else None))
            found.add(n)
        return out

    def _video(self, fp: Fingerprint, found: set[int]) -> list[Match]:
        per_original: dict[int, list[tuple[float, float, int]]] = defaultdict(list)  # (t_query, t_orig, d)
        for frame in fp.frames:
            if not frame.hashes:
                continue
            for n, (dist, t) in self._hits(frame.picture, FRAME_RADIUS, fp.sha256).items():
                per_original[n].append((frame.t, t, dist))
        out = []
        for n, hits in per_original.items():
            if n in found:
                continue
            orig = self.originals[n]
            if orig.fingerprint.kind is Kind.STILL:
                segment = hits  # a still rendered into a clip: every frame shows it
            else:
                offsets = Counter(round((to - tq) / OFFSET_TOLERANCE) for tq, to, _ in hits)
                best_bin, _ = offsets.most_common(1)[0]
                segment = [h for h in hits if abs(round((h[1] - h[0]) / OFFSET_TOLERANCE) - best_bin) <= 1]
            if len(segment) < min(MIN_SEGMENT_FRAMES, len([f for f in fp.frames if f.hashes])):
                continue
            q0, q1 = min(h[0] for h in segment), max(h[0] for h in segment) + INTERVAL
            worst = int(np.median([h[2] for h in segment]))
            if orig.fingerprint.kind is Kind.STILL:
                text = f"{_span(q0, q1)} shows {orig.name}: median perceptual distance {worst} of 256"
                orange = None
            else:
                o0, o1 = min(h[1] for h in segment), max(h[1] for h in segment) + INTERVAL
                text = (f"{_span(q0, q1)} matches {_span(o0, o1)} of {orig.name} "
                        f"({len(segment)} sampled frames, median distance {worst} of 256)")
                orange = (o0, o1)
            out.append(Match(orig, Band.MATCH, "frames", worst, text, (q0, q1), orange))
            found.add(n)
        return sorted(out, key=lambda m: m.distance or 0)

    def _audio_match(self, fp: Fingerprint, found: set[int]) -> list[Match]:
        votes: dict[int, Counter[int]] = defaultdict(Counter)
        for pos, value in enumerate(fp.audio):
            for n, opos in self._audio.get(value, ()):
                votes[n][opos - pos] += 1
        out = []
        query = np.array(fp.audio, dtype=np.uint32)
        for n, offsets in votes.items():
            orig = self.originals[n]
            if n in found or orig.sha256 == fp.sha256:
                continue
            for shift, _ in offsets.most_common(3):
                stored = np.array(orig.fingerprint.audio, dtype=np.uint32)
                ber, q0, length = _bit_error_rate(query, stored, shift)
                informative = len(np.unique(query[q0:q0 + length])) >= AUDIO_MIN_DISTINCT
                floor = max(AUDIO_FLOOR_ITEMS, min(AUDIO_MIN_ITEMS, len(query)))
                long_enough = length >= floor and informative
                # A clip too short for that is matched only whole against a whole original of
                # the same length (a transcode of a 3 s AI sound), never inside a longer one.
                # Only for an original without the dense hash (stored before it existed): with
                # it on both sides, a short clip is the dense hash's to judge (1 s floor, 43 words a second).
                whole = (length == len(query) and length >= len(stored) - 1 and shift == 0 and informative
                         and _same_length(fp.duration, orig.fingerprint.duration)
                         and not (fp.audio_hash and orig.fingerprint.audio_hash))
                if (long_enough or whole) and ber <= AUDIO_MAX_BER:
                    qs, os_ = q0 * AUDIO_STEP, (q0 + shift) * AUDIO_STEP
                    span = length * AUDIO_STEP
                    out.append(Match(orig, Band.MATCH, "audio", None,
                                     f"{_span(qs, qs + span)} sounds like {_span(os_, os_ + span)} of "
                                     f"{orig.name} (chromaprint bit error {ber:.0%})",
                                     (qs, qs + span), (os_, os_ + span)))
                    found.add(n)
                    break
        return out


    def _audio_hash_match(self, fp: Fingerprint, found: set[int]) -> list[Match]:
        out = []
        for hit in self._audio_hash.search(fp.audio_hash, fp.duration):
            orig = self.originals[hit.original]
            if hit.original in found or orig.sha256 == fp.sha256:
                continue
            (q0, q1), (o0, o1) = hit.query_range, hit.original_range
            out.append(Match(orig, Band.MATCH, "audio", None,
                             f"{_span(q0, q1)} sounds like {_span(o0, o1)} of {orig.name} (audio hash bit "
                             f"error {hit.ber:.0%} over {hit.compared} of its {hit.length} hashes)",
                             hit.query_range, hit.original_range))
            found.add(hit.original)
        return out


def _same_length(a: float | None, b: float | None) -> bool:
    return a is not None and b is not None and abs(a - b) <= 0.5


def _bit_error_rate(query: np.ndarray, stored: np.ndarray, shift: int) -> tuple[float, int, int]:
    """(share of differing bits, first aligned query item, aligned length), aligning
    stored[i + shift] with query[i]."""
    q0 = max(0, -shift)
    q1 = min(len(query), len(stored) - shift)
    if q1 <= q0:
        return 1.0, q0, 0
    diff = np.bitwise_count(query[q0:q1] ^ stored[q0 + shift:q1 + shift]).sum()
    return float(diff) / (32 * (q1 - q0)), q0, q1 - q0


def strongest(matches: Sequence[Match]) -> Match | None:
    return next((m for m in matches if m.band is Band.MATCH), matches[0] if matches else None)
