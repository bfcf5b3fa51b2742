"""A clip's media reference → the files the gate judges.

`ExternalReference` URLs become paths through `opentimelineio.url_utils.filepath_from_url`;
an `ImageSequenceReference` becomes exactly the frames the clip uses; a relative path is
taken from the edit's own folder; configured remaps turn another host's mount point into
this one's. Only local files are ever read: any other URL scheme is "missing", never fetched.
Every resolved path is reported, and one outside the edit's folder, the show and every
remap target says so (the edit named it, not the person who ran the gate).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import urlparse

import opentimelineio as otio
from opentimelineio.url_utils import filepath_from_url

from provenance.timeline.model import Media, Remap

MAX_FRAMES = 2_000_000  # per clip: a 3-hour feature at 60 fps is 648,000


class SequenceTooLong(ValueError):
    """A clip names more frames than any real cut uses: a hostile edit, not "missing"."""


class Resolver:
    def __init__(self, base: Path, remaps: Sequence[Remap] = (), known: Sequence[Path] = ()) -> None:
        # the edit's folder (.otiod: the bundle itself; .otioz: where its members were extracted)
        self.base = Path(os.path.abspath(base))
        self.remaps = tuple(remaps)
        # Places the gate expects media in: the edit's folder, the show, the remap targets.
        self.known = (self.base, *(Path(os.path.abspath(k)) for k in known),
                      *(Path(os.path.abspath(r.target)) for r in self.remaps))

    def path(self, url: str) -> tuple[Path | None, str | None, list[str]]:
        """(path, why there is none, notes) for one URL the edit wrote."""
        scheme = urlparse(url).scheme
        if scheme and scheme != "file":  # http:, s3:, a Windows drive letter ("c:")
            return None, f"not a local file URL ({url}); nothing is fetched", []
        raw = filepath_from_url(url) if scheme == "file" else url
        notes = []
        for remap in self.remaps:
            mapped = remap.apply(raw)
            if mapped is not None:
                notes.append(f"remapped {raw} → {mapped}")
                raw = mapped
                break
        path = Path(os.path.normpath(os.path.join(self.base, raw)))  # an absolute raw stays itself
        if not any(path.is_relative_to(k) for k in self.known):
            notes.append(f"resolves to {path}, outside the edit's folder and the show")
        return path, None, notes

    def external(self, ref: otio.schema.ExternalReference) -> Media:
        url = ref.target_url or ""
        if not url:
            return Media(None, missing="the clip's media reference has no URL")
        path, why, notes = self.path(url)
        if path is None:
            return Media(url, missing=why)
        if not os.path.lexists(path):
            return Media(url, missing=f"no file at {path}", notes=tuple(notes))
        return Media(url, (path,), notes=tuple(notes))

    def sequence(self, ref: otio.schema.ImageSequenceReference, used: otio.opentime.TimeRange) -> Media:
        """Exactly the frames `used` (the clip's trimmed range) shows, each resolved on its own."""
        rate = ref.rate or used.duration.rate
        start = used.start_time.rescaled_to(rate)
        count = max(0, round(used.duration.value_rescaled_to(rate)))
        if count > MAX_FRAMES:
            raise SequenceTooLong(f"clip uses {count} frames of {ref.name_prefix}…{ref.name_suffix}, "
                                  f"more than {MAX_FRAMES}")
        base_url = ref.target_url_base
        frames: dict[int, str] = {}
        try:
            for k in range(count):
                frame = ref.frame_for_time(start + otio.opentime.RationalTime(k, rate))
                image = (frame - ref.start_frame) // (ref.frame_step or 1)
                frames.setdefault(frame, ref.target_url_for_image_number(image))
        except Exception as exc:  # a clip past its sequence's frames: say so, judge none of it
            return Media(base_url, missing=f"the clip's frames are not in its image sequence: {exc}")
        files: list[Path] = []
        numbers: list[int] = []
        absent: list[str] = []
        notes: list[str] = []
        for frame, url in frames.items():
            path, why, more = self.path(url)
            notes.extend(n for n in more if n not in notes)
            if path is None:
                return Media(base_url, missing=why)
            if os.path.lexists(path):
                files.append(path)
                numbers.append(frame)
            else:
                absent.append(path.name)
        missing = None
        if absent:
            shown = ", ".join(absent[:3]) + (", …" if len(absent) > 3 else "")
            missing = f"{len(absent)} of {len(frames)} frames not found ({shown})"
        return Media(base_url, tuple(files), tuple(numbers), missing, tuple(notes))

    def media(self, clip: otio.schema.Clip) -> Media | None:
        """What the clip shows, or None for what has nothing to judge (a generator: black, bars)."""
        ref = clip.media_reference
        if isinstance(ref, otio.schema.GeneratorReference):
            return None
        if isinstance(ref, otio.schema.ExternalReference):
            return self.external(ref)
        if isinstance(ref, otio.schema.ImageSequenceReference):
            return self.sequence(ref, clip.trimmed_range())
        if isinstance(ref, otio.schema.MissingReference) or ref is None:
            return Media(None, missing="the edit has no media for this clip (a missing reference)")
        return Media(None, missing=f"unsupported media reference {type(ref).__name__}")
