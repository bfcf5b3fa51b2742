"""What a timeline is to the gate: shots (a clip on a track, placed by record time) and the
files each shot's media resolves to. Plain frozen values; `read.py` builds them from OTIO."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import opentimelineio as otio
from opentimelineio.opentime import RationalTime

from provenance.errors import ProvenanceError


class TimelineError(ProvenanceError):
    """A timeline could not be read: the gate cannot say what it holds (exit 3, undecided)."""


@dataclass(frozen=True)
class Remap:
    """An edit system's mount point and where the same storage is mounted here."""

    source: str  # e.g. "/Volumes/SHOW"
    target: str  # e.g. "/mnt/show"

    def apply(self, path: str) -> str | None:
        src = self.source.rstrip("/") or "/"
        if path == src:
            return self.target
        if path.startswith(src.rstrip("/") + "/"):
            return self.target.rstrip("/") + "/" + path[len(src.rstrip("/")) + 1:]
        return None


@dataclass(frozen=True)
class Media:
    """Where a clip's media resolved to. `files` empty and `missing` set: nothing to judge."""

    url: str | None  # as the edit wrote it
    files: tuple[Path, ...] = ()  # what is judged (for a sequence: exactly the frames used)
    frames: tuple[int, ...] = ()  # frame numbers, for an image sequence
    missing: str | None = None  # why no file could be found
    notes: tuple[str, ...] = ()  # what the gate says besides (remapped, outside the edit's folder)


@dataclass(frozen=True)
class Shot:
    """One clip of the edit. Record times are at the timeline's rate, source times at the
    media's; out points are exclusive, as in an EDL."""

    index: int  # 1-based, in track order
    track: str
    kind: str  # "Video" | "Audio" | other OTIO track kinds
    name: str
    record_in: RationalTime
    record_out: RationalTime
    source_in: RationalTime
    source_out: RationalTime
    media: Media
    enabled: bool = True

    @property
    def rate(self) -> float:
        return float(self.record_in.rate)


@dataclass(frozen=True)
class Timeline:
    path: Path  # the timeline file (or `.otiod` folder)
    name: str
    format: str  # the OTIO adapter that read it
    rate: float
    shots: tuple[Shot, ...]
    skipped: int = 0  # generators (black, bars, titles) and other clips with nothing to judge
    members: tuple[Path, ...] = field(default=())  # files the edit itself is made of (.otiod)


def timecode(t: RationalTime, rate: float | None = None) -> str:
    """`t` as SMPTE timecode at `rate` (default its own; drop-frame inferred for 29.97/59.94),
    or as a frame count where the rate has no timecode (OTIO refuses e.g. 12.5)."""
    r = rate or t.rate
    try:
        return str(otio.opentime.to_timecode(t, r))
    except Exception:
        return f"{round(t.value_rescaled_to(r))}f@{r:g}"


def seconds(t: RationalTime) -> float:
    return float(t.to_seconds())
