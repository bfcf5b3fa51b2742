"""Edit timelines built at test time with OpenTimelineIO's own adapters, referencing real media
(sample_assets/, ../shared/corpus, and AI files made by the gate tests' helpers)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import opentimelineio as otio
import pytest

from tests.gate.conftest import show  # noqa: F401  (a show folder with a real config and ledger)

RATE = 24
START = 86400  # 01:00:00:00 at 24 fps: where editors start a reel


def rt(frames: int, rate: float = RATE) -> otio.opentime.RationalTime:
    return otio.opentime.RationalTime(frames, rate)


@dataclass
class Media:
    """A clip to put on V1: a file (or a sequence: `seq` = (folder, prefix, suffix, first frame))."""

    name: str
    path: Path | str | None = None  # a path, or a URL as the edit writes it
    source_in: int = 0
    duration: int = 24
    available: int = 48
    seq: tuple[Path, str, str, int] | None = None
    generator: bool = False
    gap_after: int = 0


def build(clips: Sequence[Media], name: str = "cut") -> otio.schema.Timeline:
    tl = otio.schema.Timeline(name=name, global_start_time=rt(START))
    track = otio.schema.Track(name="V1", kind=otio.schema.TrackKind.Video)
    tl.tracks.append(track)
    for c in clips:
        available = otio.opentime.TimeRange(rt(0), rt(c.available))
        ref: otio.core.MediaReference
        if c.generator:
            ref = otio.schema.GeneratorReference(generator_kind="SMPTEBars", available_range=available)
        elif c.seq is not None:
            folder, prefix, suffix, first = c.seq
            ref = otio.schema.ImageSequenceReference(
                target_url_base=otio.url_utils.url_from_filepath(str(folder)) + "/", name_prefix=prefix,
                name_suffix=suffix, start_frame=first, frame_step=1, rate=RATE, frame_zero_padding=4,
                available_range=available)
        elif c.path is None:
            ref = otio.schema.MissingReference()
        else:
            url = c.path if isinstance(c.path, str) else otio.url_utils.url_from_filepath(str(c.path))
            ref = otio.schema.ExternalReference(target_url=url, available_range=available)
            ref.name = c.name
        track.append(otio.schema.Clip(name=c.name, media_reference=ref,
                                      source_range=otio.opentime.TimeRange(rt(c.source_in), rt(c.duration))))
        if c.gap_after:
            track.append(otio.schema.Gap(duration=rt(c.gap_after)))
    return tl


def write(tl: otio.schema.Timeline, path: Path) -> Path:
    """Written by the adapter OTIO picks for the suffix (.otio .edl .xml .fcpxml .aaf .otioz .otiod)."""
    extra = {"use_empty_mob_ids": True} if path.suffix == ".aaf" else {}
    otio.adapters.write_to_file(tl, str(path), **extra)
    return path


@pytest.fixture
def sample_dir() -> Path:
    return Path(__file__).resolve().parents[2] / "sample_assets" / "show"
