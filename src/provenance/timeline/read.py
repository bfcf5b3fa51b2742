"""Read one timeline through OpenTimelineIO into typed shots (parse at the boundary).

The edit's bytes are read with `read_bounded` (never a FIFO or device, never past a bound); any
failure of an adapter on hostile or broken input is a `TimelineError` naming the file, which
leaves the gate undecided. An `.otioz` bundle's media are its own zip members: the members
the clips name (and only those) are extracted under `extract_to` for judging.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import stat
import zipfile
from collections.abc import Iterator, Sequence
from pathlib import Path, PurePosixPath

import opentimelineio as otio

from provenance._os import read_bounded
from provenance.timeline.formats import ADAPTERS, suffix
from provenance.timeline.model import Remap, Shot, Timeline, TimelineError
from provenance.timeline.resolve import Resolver, SequenceTooLong

MAX_TIMELINE_BYTES = 256 * 1024 * 1024  # a feature's OTIO JSON is tens of MB
MAX_BUNDLE_MEMBER_BYTES = 64 * 1024**3
TEXT_ADAPTERS = frozenset({"otio_json", "cmx_3600", "fcp_xml", "otio_fcpx_xml_lite_adapter"})


def _text(path: Path) -> str:
    try:
        data = read_bounded(path, MAX_TIMELINE_BYTES)
    except OSError as exc:  # TooLarge among them: "larger than 256 MiB"
        raise TimelineError(f"cannot read the edit: {exc.strerror or exc}", path) from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise TimelineError(f"not UTF-8 text: {exc}", path) from None


def _regular(path: Path) -> None:
    try:
        mode = os.stat(path).st_mode
    except OSError as exc:
        raise TimelineError(f"cannot read the edit: {exc.strerror or exc}", path) from None
    if not stat.S_ISREG(mode):
        raise TimelineError("not a regular file", path)


def _load(path: Path, adapter: str, edl_rate: float) -> otio.core.SerializableObject:
    """The adapter's result for `path`; every failure is the file's TimelineError. Adapters
    that print (the FCPXML one does) print into nothing: stdout is `gate --json`'s."""
    with contextlib.redirect_stdout(io.StringIO()):
        return _adapt(path, adapter, edl_rate)


def _adapt(path: Path, adapter: str, edl_rate: float) -> otio.core.SerializableObject:
    try:
        if adapter == "otiod":
            return otio.adapters.read_from_string(_text(path / "content.otio"), adapter_name="otio_json")
        if adapter in TEXT_ADAPTERS:
            extra = {"rate": edl_rate} if adapter == "cmx_3600" else {}
            return otio.adapters.read_from_string(_text(path), adapter_name=adapter, **extra)
        _regular(path)
        if adapter == "otioz":
            _check_zip(path)
        return otio.adapters.read_from_file(str(path), adapter_name=adapter)
    except TimelineError:
        raise
    except Exception as exc:  # adapters raise anything on broken input (KeyError, ParseError, ...)
        raise TimelineError(f"not a readable {adapter} timeline: {type(exc).__name__}: {exc}", path) from None


def _check_zip(path: Path) -> None:
    try:
        with zipfile.ZipFile(path) as zf:
            info = zf.getinfo("content.otio")
    except (zipfile.BadZipFile, KeyError, OSError) as exc:
        raise TimelineError(f"not an .otioz bundle: {exc}", path) from None
    if info.file_size > MAX_TIMELINE_BYTES:
        raise TimelineError(f"content.otio is larger than {MAX_TIMELINE_BYTES // 2**20} MiB", path)


def _timelines(obj: otio.core.SerializableObject, path: Path) -> list[otio.schema.Timeline]:
    if isinstance(obj, otio.schema.Timeline):
        return [obj]
    if isinstance(obj, otio.schema.SerializableCollection):
        found = list(obj.find_children(descended_from_type=otio.schema.Timeline))
        if found:
            return found
    raise TimelineError(f"holds no timeline (an OTIO {type(obj).__name__})", path)


def _track(clip: otio.schema.Clip) -> otio.schema.Track | None:
    parent = clip.parent()
    while parent is not None and not isinstance(parent, otio.schema.Track):
        parent = parent.parent()
    return parent


def _track_names(timeline: otio.schema.Timeline) -> dict[int, tuple[otio.schema.Track, str]]:
    """Each track's name by id(); an unnamed one (FCP 7 XML) is called V1, A2… as an editor would.
    The track itself is kept beside its name: an id is only stable while its wrapper lives."""
    names: dict[int, tuple[otio.schema.Track, str]] = {}
    counts: dict[str, int] = {}
    for track in timeline.find_children(descended_from_type=otio.schema.Track):
        kind = str(track.kind)
        counts[kind] = counts.get(kind, 0) + 1
        names[id(track)] = (track, track.name or f"{kind[:1] or '?'}{counts[kind]}")
    return names


def _rate(timeline: otio.schema.Timeline, fallback: float) -> float:
    if timeline.global_start_time is not None:
        return float(timeline.global_start_time.rate)
    for clip in timeline.find_clips():
        return float(clip.trimmed_range().duration.rate)
    return fallback


def _absolute_offsets(timeline: otio.schema.Timeline, start: otio.opentime.RationalTime) -> bool:
    """Whether an FCPXML spine's offsets already include the sequence's tcStart, as Final Cut
    Pro and Resolve write them (first clip at offset="3600s" for 01:00:00:00): the lite
    adapter 0.2.3 adds tcStart again (its own writer writes offsets from 0), which would put
    every shot an hour late. Nothing can sit before tcStart in an absolute spine."""
    if start.value <= 0:
        return False
    clips = list(timeline.find_clips())
    firsts = [c.transformed_time_range(c.trimmed_range(), timeline.tracks).start_time for c in clips]
    return bool(firsts) and min(firsts) >= start


def _shots(timeline: otio.schema.Timeline, resolver: Resolver, rate: float, prefix: str,
           first: int, adapter: str) -> Iterator[Shot | None]:
    names = _track_names(timeline)
    start = (timeline.global_start_time or otio.opentime.RationalTime(0, rate)).rescaled_to(rate)
    if adapter == "otio_fcpx_xml_lite_adapter" and _absolute_offsets(timeline, start):
        start = otio.opentime.RationalTime(0, rate)
    for i, clip in enumerate(timeline.find_clips(), start=first):
        media = resolver.media(clip)
        if media is None:
            yield None
            continue
        source = clip.trimmed_range()
        record = clip.transformed_time_range(source, timeline.tracks)
        track = _track(clip)
        named = names.get(id(track)) if track is not None else None
        yield Shot(
            index=i, track=prefix + (named[1] if named is not None else "?"),
            kind=str(track.kind) if track is not None else "?", name=clip.name,
            record_in=start + record.start_time.rescaled_to(rate),
            record_out=start + record.end_time_exclusive().rescaled_to(rate),
            source_in=source.start_time, source_out=source.end_time_exclusive(),
            media=media, enabled=bool(clip.enabled))


def _bundle_members(path: Path, names: set[str], into: Path) -> None:
    """Extract the members the edit names (nothing else, nothing outside `into`)."""
    with zipfile.ZipFile(path) as zf:
        for info in zf.infolist():
            name = PurePosixPath(info.filename)
            if str(name) not in names or name.is_absolute() or ".." in name.parts or info.is_dir():
                continue
            if info.file_size > MAX_BUNDLE_MEMBER_BYTES:
                raise TimelineError(f"member {info.filename} is larger than "
                                    f"{MAX_BUNDLE_MEMBER_BYTES // 2**30} GiB", path)
            target = into.joinpath(*name.parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            with zf.open(info) as src, open(target, "wb") as dst:
                shutil.copyfileobj(src, dst)


def _bundle_names(obj: otio.core.SerializableObject) -> set[str]:
    names = set()
    for clip in obj.find_clips():
        ref = clip.media_reference
        if isinstance(ref, otio.schema.ExternalReference) and ref.target_url:
            url = ref.target_url
            names.add(os.path.normpath(otio.url_utils.filepath_from_url(url)
                                       if url.startswith("file:") else url))
    return names


def read_timeline(path: str | os.PathLike[str], remaps: Sequence[Remap] = (), *, edl_rate: float = 24.0,
                  known: Sequence[Path] = (), extract_to: Path | None = None) -> Timeline:
    """`path` as shots with resolved media. `known`: folders media are expected in besides the
    edit's own (the show); `extract_to`: an empty private folder for an `.otioz`'s members."""
    path = Path(path)
    adapter = ADAPTERS.get(suffix(path))
    if adapter is None:
        raise TimelineError(f"not a timeline format this gate reads ({', '.join(ADAPTERS)})", path)
    obj = _load(path, adapter, edl_rate)
    base = path if adapter == "otiod" else path.parent
    if adapter == "otioz":
        if extract_to is None:
            raise TimelineError("an .otioz bundle needs a folder to extract its media to", path)
        try:
            _bundle_members(path, _bundle_names(obj), extract_to)
        except (OSError, zipfile.BadZipFile, RuntimeError) as exc:
            raise TimelineError(f"cannot extract the bundle's media: {exc}", path) from None
        base = extract_to
    resolver = Resolver(base, remaps, known)
    timelines = _timelines(obj, path)
    shots: list[Shot] = []
    skipped = 0
    rate = _rate(timelines[0], edl_rate)
    try:
        for t in timelines:
            prefix = f"{t.name}: " if len(timelines) > 1 else ""
            for shot in _shots(t, resolver, _rate(t, edl_rate), prefix, len(shots) + skipped + 1,
                                adapter):
                if shot is None:
                    skipped += 1
                else:
                    shots.append(shot)
    except SequenceTooLong as exc:
        raise TimelineError(str(exc), path) from None
    except Exception as exc:  # a clip OTIO cannot place (a broken range): the edit is unreadable
        raise TimelineError(f"cannot place its clips: {type(exc).__name__}: {exc}", path) from None
    return Timeline(path, timelines[0].name or path.name, adapter, rate, tuple(shots), skipped)
