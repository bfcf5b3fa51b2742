"""Where each track file plays on a CPL's timeline, in timecode.

A CPL's Segments play one after another; inside a Segment every Sequence (image, audio,
subtitles…) runs in parallel from the Segment's start, its Resources end to end. A Resource
plays `SourceDuration × RepeatCount` edit units of its own rate starting at `EntryPoint` of its
track file; the timeline counts in the CPL's EditRate. So a track file's placement is: which
composition, segment, sequence and resource, the record in/out on the timeline (edit units at
the CPL rate, and timecode from the CompositionTimecode start, 00:00:00:00 when there is none),
and the source range of the track file it takes.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from provenance.imf.documents import Composition, Resource, Segment, Timecode


@dataclass(frozen=True)
class Placement:
    """One resource of one track file on one CPL's timeline (a row of the disclosure map)."""

    composition: str  # the CPL's ContentTitle
    cpl: str  # the CPL document's path in the package
    segment: int  # 1-based, in playing order
    segment_id: str
    sequence: str  # MainImageSequence, MainAudioSequence, …
    resource_id: str
    track_file_id: str
    entry_point: int  # in the resource's edit units
    source_duration: int
    repeat_count: int
    resource_edit_rate: str  # "24/1", "48000/1"
    edit_rate: str  # the CPL's
    record_in: int  # CPL edit units from the composition's start
    record_out: int  # exclusive
    timecode_in: str
    timecode_out: str  # exclusive, as editors write an out point
    source_in: int | None = None  # the part of the track file, when only part of the resource is
    source_out: int | None = None  # AI (content memory matched a segment); None: the whole resource

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _rate_text(r: Fraction) -> str:
    return f"{r.numerator}/{r.denominator}"


def _frames(tc: str, fps: int, drop: bool) -> int:
    hh, mm, ss, ff = (int(x) for x in tc.replace(";", ":").split(":"))
    minutes = hh * 60 + mm
    dropped = (2 if fps <= 30 else 4) * (minutes - minutes // 10) if drop else 0
    return (minutes * 60 + ss) * fps + ff - dropped


def timecode(frame: int, fps: int, drop: bool = False) -> str:
    """SMPTE timecode of a frame count, through the edit timelines' one conversion (OTIO's);
    drop-frame counts at 29.97/59.94, which is how OTIO knows to skip frame numbers."""
    from opentimelineio.opentime import RationalTime

    from provenance.timeline import timecode as otio_timecode

    rate = fps * 1000 / 1001 if drop else float(fps)
    return otio_timecode(RationalTime(frame, rate), rate)


def _clock(cpl: Composition) -> tuple[int, int, bool]:
    """(timecode frames per second, start frame, drop frame)."""
    tc: Timecode | None = cpl.timecode
    fps = tc.rate if tc and tc.rate else max(1, round(cpl.edit_rate))
    drop = bool(tc and tc.drop_frame)
    return fps, _frames(tc.start, fps, drop) if tc else 0, drop


def _length(res: Resource, rate: Fraction) -> Fraction:
    return res.duration * rate / res.edit_rate


def _segment_length(seg: Segment, rate: Fraction) -> Fraction:
    return max((sum((_length(r, rate) for r in seq.resources), Fraction(0)) for seq in seg.sequences),
               default=Fraction(0))


def placements(cpl: Composition) -> list[Placement]:
    """Every track-file resource of `cpl`, in timeline order."""
    fps, start, drop = _clock(cpl)
    # Timecode counts frames at its own rate; the timeline counts CPL edit units.
    per_unit = Fraction(fps) / cpl.edit_rate
    out = []
    seg_start = Fraction(0)
    for n, seg in enumerate(cpl.segments, 1):
        for seq in seg.sequences:
            at = seg_start
            for res in seq.resources:
                length = _length(res, cpl.edit_rate)
                if res.track_file_id:
                    rin, rout = math.floor(at), math.ceil(at + length)
                    out.append(Placement(
                        cpl.title, cpl.document, n, seg.id, seq.kind, res.id, res.track_file_id,
                        res.entry_point, res.source_duration, res.repeat_count, _rate_text(res.edit_rate),
                        _rate_text(cpl.edit_rate), rin, rout,
                        timecode(start + math.floor(rin * per_unit), fps, drop),
                        timecode(start + math.ceil(rout * per_unit), fps, drop)))
                at += length
        seg_start += _segment_length(seg, cpl.edit_rate)
    return out


def narrowed(cpl: Composition, p: Placement, t0: float, t1: float) -> list[Placement]:
    """The parts of placement `p` that play seconds [t0, t1) of its track file (a segment
    content memory matched), one per repeat; [] when the resource does not play them."""
    fps, start, drop = _clock(cpl)
    per_unit = Fraction(fps) / cpl.edit_rate
    rate = Fraction(p.resource_edit_rate)
    scale = cpl.edit_rate / rate  # CPL edit units per resource edit unit
    u0 = max(Fraction(t0).limit_denominator(1000) * rate, Fraction(p.entry_point))
    u1 = min(Fraction(t1).limit_denominator(1000) * rate, Fraction(p.entry_point + p.source_duration))
    if u1 <= u0:
        return []
    out = []
    for k in range(p.repeat_count):
        base = p.record_in + k * p.source_duration * scale
        rin = math.floor(base + (u0 - p.entry_point) * scale)
        rout = math.ceil(base + (u1 - p.entry_point) * scale)
        out.append(dataclasses.replace(
            p, record_in=rin, record_out=rout,
            timecode_in=timecode(start + math.floor(rin * per_unit), fps, drop),
            timecode_out=timecode(start + math.ceil(rout * per_unit), fps, drop),
            source_in=math.floor(u0), source_out=math.ceil(u1)))
    return out


def describe(p: Placement) -> str:
    """One line for people: where on the timeline, and which part of the track file."""
    repeat = f" ×{p.repeat_count}" if p.repeat_count != 1 else ""
    part = (f"; AI in track file edit units {p.source_in}–{p.source_out}" if p.source_in is not None else "")
    return (f"on the timeline of {p.composition or p.cpl}: {p.timecode_in}–{p.timecode_out} "
            f"(segment {p.segment}, {p.sequence}, resource {p.resource_id}; entry point {p.entry_point}, "
            f"{p.source_duration}{repeat} edit units at {p.resource_edit_rate}{part})")
