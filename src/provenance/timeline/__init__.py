"""Edit timelines (OTIO, CMX 3600 EDL, FCP 7 XML, FCPXML, AAF) as typed shots with their media
resolved to files. OpenTimelineIO and its adapters are the only format layer; nothing outside
this package imports `opentimelineio`."""

from provenance.timeline.formats import is_timeline
from provenance.timeline.model import Media, Remap, Shot, Timeline, TimelineError, seconds, timecode
from provenance.timeline.read import read_timeline

__all__ = ["Media", "Remap", "Shot", "Timeline", "TimelineError", "is_timeline", "read_timeline", "seconds",
           "timecode"]
