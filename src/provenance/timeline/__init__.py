"""Edit timelines (OTIO, CMX 3600 EDL, FCP 7 XML, FCPXML, AAF) as typed shots with their media
resolved to files. OpenTimelineIO and its adapters are the only format layer; nothing outside
this package imports `opentimelineio`."""

from importlib import import_module
from typing import TYPE_CHECKING, Any

from provenance.timeline.formats import is_timeline

if TYPE_CHECKING:
    from provenance.timeline.model import Media, Remap, Shot, Timeline, TimelineError, seconds, timecode
    from provenance.timeline.read import read_timeline

# Imported on first use: `is_timeline` (every gate asks it of each path) must not import
# OpenTimelineIO, which only reading an edit needs.
_HOME = {"Media": "model", "Remap": "model", "Shot": "model", "Timeline": "model",
         "TimelineError": "model", "seconds": "model", "timecode": "model", "read_timeline": "read"}


def __getattr__(name: str) -> Any:
    if name in _HOME:
        return getattr(import_module(f"{__name__}.{_HOME[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["Media", "Remap", "Shot", "Timeline", "TimelineError", "is_timeline", "read_timeline", "seconds",
           "timecode"]
