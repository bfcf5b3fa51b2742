"""What a fingerprint is: plain frozen values, a stable JSON form for the ledger.

A fingerprint belongs to one sha256 (computed once per content, never per path) and
holds what survives a re-save: the essence digest (exact decoded content), perceptual
hashes of pictures with their times, and chromaprint sub-fingerprints for audio.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

# Bump when a hash's definition changes: stored fingerprints of another version are
# recomputed (scan back-fills them), never compared with new ones.
# 2: a JPEG's essence is its coded data, its picture a draft (scaled IDCT) decode.
VERSION = 2
# Versions whose stored pictures and audio prints are still compared with this version's:
# forgetting an AI original because the hash of its *query* side got faster would let its
# derivatives through until the original is judged again, and the original may be gone.
# v1 -> v2 changed a JPEG's essence (digests of different things never collide, so an old
# essence simply never matches) and draft-decoded its picture (0-10 of 256 bits, far inside
# the match radius). Drop a version from here only when its hashes are no longer comparable.
COMPARABLE_VERSIONS = frozenset({1, 2})


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
    duration: float | None = None
    version: int = VERSION
    notes: tuple[str, ...] = field(default=())  # what could not be computed, and why

    def to_json(self) -> dict[str, Any]:
        return {
            "frames": [[round(f.t, 3), [f"{h:064x}" for h in f.hashes]] for f in self.frames],
            "audio": list(self.audio),
            "notes": list(self.notes),
        }

    @classmethod
    def from_row(cls, sha256: str, kind: str, essence: str | None, duration: float | None,
                 version: int, data: dict[str, Any]) -> Fingerprint:
        frames = tuple(FrameHash(float(t), tuple(int(h, 16) for h in hs)) for t, hs in data.get("frames", []))
        return cls(sha256=sha256, kind=Kind(kind), essence=essence, frames=frames,
                   audio=tuple(int(v) for v in data.get("audio", [])), duration=duration,
                   version=version, notes=tuple(data.get("notes", [])))
