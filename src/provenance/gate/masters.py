"""Finished masters in the gate: which time ranges of a final video match AI material.

The judging step already checks a video frame-wise against content memory (frames sampled
every 0.25 s and at cuts, `fingerprint/video.py`; matched in `memory/match.py`), and a
match makes the file AI by derivation, so it blocks like any AI asset. What a delivery
needs besides is *where*: per master, each segment that matches, with its time range in
seconds and timecode (at the master's frame rate), the AI original it matches and that
original's range. The fingerprint is the one the judge stored for these bytes; nothing is
decoded again.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from provenance.gate.result import AssetResult, FileOutcome
from provenance.judge import Judge

log = logging.getLogger(__name__)
_DERIVED = ("derived_from", "possibly_derived_from")


@dataclass(frozen=True)
class MasterSegment:
    start: float  # seconds from the master's first frame
    end: float
    timecode_in: str
    timecode_out: str
    original: str  # the AI original's path as the ledger saw it
    original_sha256: str
    classification: str
    band: str  # "match" | "possible"
    how: str
    original_range: tuple[float, float] | None
    description: str

    def to_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "original_range": list(self.original_range) if self.original_range else None}


@dataclass
class MasterReport:
    path: str
    frame_rate: str | None
    segments: list[MasterSegment] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": "master", "path": self.path, "frame_rate": self.frame_rate,
                "segments": [s.to_dict() for s in self.segments]}


def _rate(path: str) -> tuple[int, str | None]:
    """(timecode frames per second, the stream's rate as text) from the container header."""
    import av

    try:
        with av.open(path) as container:
            rate = container.streams.video[0].average_rate if container.streams.video else None
    except (OSError, ValueError, av.FFmpegError):
        rate = None
    if not rate:
        return 25, None
    return max(1, round(float(rate))), f"{rate.numerator}/{rate.denominator}"


def _timecode(seconds: float, fps: int, *, up: bool = False) -> str:
    frame = math.ceil(seconds * fps - 1e-6) if up else math.floor(seconds * fps + 1e-6)
    ff, total = frame % fps, frame // fps
    return f"{total // 3600:02d}:{total // 60 % 60:02d}:{total % 60:02d}:{ff:02d}"


def _segments(o: FileOutcome, judge: Judge) -> MasterReport | None:
    from provenance.fingerprint import Fingerprint, Kind, kind_of
    from provenance.ledger import Ledger
    from provenance.memory import store
    from provenance.memory.recall import ContentMemory

    v = o.verdict
    if kind_of(v.format) is not Kind.VIDEO or not v.sha256 or o.source is None:
        return None
    if not any(e.source == "content" and e.field in _DERIVED for e in v.evidence):
        return None
    content = judge.memory_of(ContentMemory)
    if content is None or not isinstance(judge.ledger, Ledger):
        return None
    fp = dict(store.load(judge.ledger, [v.sha256])).get(v.sha256)
    if not isinstance(fp, Fingerprint):
        return None
    fps, rate = _rate(o.source)
    report = MasterReport(o.relpath, rate)
    for m in content.memory().match(fp):
        if m.query_range is None:
            continue  # the whole file (same essence): the verdict says so already
        q0, q1 = m.query_range
        if fp.duration:
            q1 = min(q1, fp.duration)
        orig = m.original
        report.segments.append(MasterSegment(
            round(q0, 3), round(q1, 3), _timecode(q0, fps), _timecode(q1, fps, up=True),
            orig.paths[0] if orig.paths else "", orig.sha256, orig.classification, str(m.band), m.how,
            m.original_range, m.description))
    report.segments.sort(key=lambda s: s.start)
    return report if report.segments else None


def check_masters(assets: Sequence[AssetResult], judge: Judge) -> list[MasterReport]:
    """A report per judged video that content memory found AI material in, with a note per
    segment on its file (every output shows notes)."""
    out = []
    for a in assets:
        for o in a.files:
            try:
                report = _segments(o, judge)
            except Exception as exc:  # the verdict (blocked as AI) stands; only the where is missing
                log.exception("finding the AI segments of %s failed", o.relpath)
                o.notes.append(f"could not place the AI segments: {type(exc).__name__}: {exc}")
                continue
            if report is None:
                continue
            for s in report.segments:
                o.notes.append(f"AI segment {s.timecode_in}–{s.timecode_out} ({s.start:.2f}–{s.end:.2f} s) "
                               f"matches {Path(s.original).name or s.original_sha256[:12]} ({s.band})")
            out.append(report)
    return out
