"""What a fingerprint is: plain frozen values, a stable JSON form for the ledger.

A fingerprint belongs to one sha256 (computed once per content, never per path) and
holds what survives a re-save: the essence digest (exact decoded content), perceptual
hashes of pictures with their times, and for audio chromaprint sub-fingerprints and a
dense robust hash (fingerprint/audio_hash.py) for sounds too short for chromaprint.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from provenance.fingerprint import audio_hash

# Bump when a hash's definition changes: stored fingerprints of another version are
# recomputed (scan back-fills them), never compared with new ones.
# 2: a JPEG's essence is its coded data, its picture a draft (scaled IDCT) decode.
# 3: audio gains the dense robust hash (`audio_hash`); a video gains the audio prints of its
#    sound (chromaprint and the dense hash); stills are unchanged.
VERSION = 3
# The version at which each kind's definition last changed: a stored row of that version or
# newer is current (a still printed at 2 is what 3 would compute, so bumping VERSION for
# audio does not make every still of a show be decoded again), an older one is recomputed.
CURRENT_SINCE = {"still": 2, "video": 3, "audio": 3}
# Versions whose stored pictures and audio prints are still compared with this version's:
# forgetting an AI original because the hash of its *query* side got faster would let its
# derivatives through until the original is judged again, and the original may be gone.
# v1 -> v2 changed a JPEG's essence (digests of different things never collide, so an old
# essence simply never matches) and draft-decoded its picture (0-10 of 256 bits, far inside
# the match radius). Drop a version from here only when its hashes are no longer comparable.
# v2 -> v3 added the audio hash; a v2 audio original keeps its chromaprint, which still matches.
COMPARABLE_VERSIONS = frozenset({1, 2, 3})


class Kind(StrEnum):
    STILL = "still"
    VIDEO = "video"
    AUDIO = "audio"


@dataclass(frozen=True)
class FrameHash:
    """Perceptual hashes of one picture at a time in its asset (0 for a still)."""

    t: float
    hashes: tuple[int, ...]  # first the whole picture, then its crop variants (stills only)

    @property
    def picture(self) -> int:
        return self.hashes[0]


@dataclass(frozen=True)
class Fingerprint:
    sha256: str
    kind: Kind
    essence: str | None  # sha256 of the canonical decoded media; None when not computed
    frames: tuple[FrameHash, ...] = ()
    audio: tuple[int, ...] = ()  # chromaprint sub-fingerprints, one per AUDIO_STEP seconds
    audio_hash: tuple[int, ...] = ()  # the dense hash, one per audio_hash.HOP_SECONDS (0: no information)
    duration: float | None = None
    version: int = VERSION
    notes: tuple[str, ...] = field(default=())  # what could not be computed, and why

    @property
    def current(self) -> bool:
        """Whether this print is what today's code computes for its kind (else it is recomputed)."""
        return self.version >= CURRENT_SINCE[str(self.kind)]

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "frames": [[round(f.t, 3), [f"{h:064x}" for h in f.hashes]] for f in self.frames],
            "audio": list(self.audio),
            "notes": list(self.notes),
        }
        if self.audio_hash:  # absent, not empty, elsewhere: older rows and every still stay as they were
            out["audio_hash"] = audio_hash.encode(self.audio_hash)
        return out

    @classmethod
    def from_row(cls, sha256: str, kind: str, essence: str | None, duration: float | None,
                 version: int, data: dict[str, Any]) -> Fingerprint:
        frames = tuple(FrameHash(float(t), tuple(int(h, 16) for h in hs)) for t, hs in data.get("frames", []))
        return cls(sha256=sha256, kind=Kind(kind), essence=essence, frames=frames,
                   audio=tuple(int(v) for v in data.get("audio", [])),
                   audio_hash=tuple(int(v) for v in audio_hash.decode(data.get("audio_hash", ""))),
                   duration=duration,
                   version=version, notes=tuple(data.get("notes", [])))
