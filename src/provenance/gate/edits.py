"""Edit timelines handed to the gate: each is read (`provenance.timeline`), every clip's media
joins the files the gate judges (one judging step for all), and afterwards each shot is tied
back to the outcomes of its files: the shot disclosure map's data.

A timeline that cannot be read leaves its own file undecided with the reason. A clip whose
media is not found is undecided too (its own asset, named by the clip) unless the gate was
told `allow_missing`; then it is only listed. A file that exists but cannot be read stays
undecided either way: "missing" means not there, never "there but unreadable".
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from provenance.config import Config
from provenance.gate.result import AssetResult, FileOutcome, Status
from provenance.gate.walk import PackageFile, walk_package
from provenance.judge import Judge, failed_verdict
from provenance.model import Zone
from provenance.timeline.formats import BUNDLES, suffix

if TYPE_CHECKING:
    from provenance.timeline import Shot, Timeline


@dataclass
class ShotOutcome:
    shot: Shot
    files: list[FileOutcome]  # the judged files of this shot (one, or the frames used)
    missing: FileOutcome | None = None  # the undecided stand-in for media not found

    @cached_property
    def status(self) -> Status:
        outs = self.files + ([self.missing] if self.missing is not None else [])
        return max((f.status for f in outs), key=lambda s: s.rank, default=Status.CLEAR)

    @property
    def judged(self) -> FileOutcome | None:
        """The file that decides the shot's row: the first that does not pass, else the first."""
        return next((f for f in self.files if f.status is self.status), self.files[0] if self.files else None)


@dataclass
class EditResult:
    path: str  # the timeline as handed to the gate
    timeline: Timeline | None
    error: str | None = None  # why it could not be read (then its file is undecided)
    shots: list[ShotOutcome] = field(default_factory=list)
    allow_missing: bool = False
    relpath: str = ""  # the edit's own name among the judged files (relative to its root)

    @property
    def missing(self) -> list[ShotOutcome]:
        return [s for s in self.shots if s.shot.media.missing]


@dataclass
class EditPlan:
    """What the timelines add to the package before judging."""

    files: list[PackageFile]
    timelines: list[tuple[str, Timeline | None, str | None]]  # (path, timeline, error)
    own: dict[str, PackageFile]  # each timeline's own file, by its path as given
    names: dict[str, str] = field(default_factory=dict)  # each timeline's judged name, by path given


def _key(path: str | os.PathLike[str]) -> str:
    return os.path.abspath(path)


def _relpath(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()  # outside the edit's root: the absolute path says where


def _root(edit: Path, media: Iterable[Path], show: Path) -> Path:
    """The one folder an edit's files are named relative to, so the names mean the same on the
    receiver's host (the decision file lists them; `verify-delivery` finds them there): the
    edit's folder when every clip's media is inside it, else the show's when the edit and its
    media all are. Media outside that root keeps its absolute path: it cannot travel by name."""
    folder = edit.parent.absolute()
    files = [f.absolute() for f in media]
    if all(f.is_relative_to(folder) for f in files):
        return folder
    show = show.absolute()
    inside = [f for f in files if f.is_relative_to(show)]
    return show if folder.is_relative_to(show) and inside else folder


def plan(paths: Sequence[str | os.PathLike[str]], config: Config, extract_root: Path | None) -> EditPlan:
    """Read each timeline; the files to judge are the timeline itself (an `.otiod`: every file
    of the bundle) and every clip's resolved media."""
    if not paths:  # OpenTimelineIO is imported only for a gate that was handed an edit
        return EditPlan([], [], {})
    from provenance.timeline import Remap, TimelineError, read_timeline

    remaps = [Remap(src, str(dst)) for src, dst in config.timeline_remap]
    files: list[PackageFile] = []
    timelines: list[tuple[str, Timeline | None, str | None]] = []
    own: dict[str, PackageFile] = {}
    names: dict[str, str] = {}
    for i, raw in enumerate(paths):
        path = Path(raw)
        extract = None
        if extract_root is not None and suffix(path) == ".otioz":
            extract = extract_root / str(i)
            extract.mkdir()
        error: str | None = None
        try:
            timeline: Timeline | None = read_timeline(path, remaps, edl_rate=config.edl_rate,
                                                      known=[config.base_dir], extract_to=extract)
        except TimelineError as exc:
            timeline, error = None, exc.reason
        media = [f for shot in timeline.shots for f in shot.media.files] if timeline is not None else []
        root = _root(path, (f for f in media if extract is None or not f.is_relative_to(extract)),
                     config.base_dir)
        names[os.fspath(raw)] = _relpath(path.absolute(), root)
        if suffix(path) in BUNDLES:
            files.extend(PackageFile(pf.path, pf.root, relpath=_relpath(pf.path.absolute(), root))
                         for pf in walk_package([path], config.approvals_dir))
        else:
            own[os.fspath(raw)] = PackageFile(path, path.parent, relpath=_relpath(path.absolute(), root))
            files.append(own[os.fspath(raw)])
        if timeline is None:
            timelines.append((os.fspath(raw), None, error))
            continue
        timelines.append((os.fspath(raw), timeline, None))
        for shot in timeline.shots:
            for f in shot.media.files:
                rel = (_relpath(path.absolute(), root) + f"/{f.relative_to(extract).as_posix()}"
                       if extract is not None and f.is_relative_to(extract) else _relpath(f.absolute(), root))
                files.append(PackageFile(f, root, relpath=rel))
    return EditPlan(files, timelines, own, names)


def unique(files: Iterable[PackageFile]) -> list[PackageFile]:
    """Each file once (a clip used twice, media also handed over as a folder): the first wins."""
    seen: dict[str, PackageFile] = {}
    for f in files:
        seen.setdefault(_key(f.text), f)
    return list(seen.values())


def _missing_outcome(edit: str, shot: Shot, judge: Judge) -> FileOutcome:
    name = f"{edit}: clip {shot.index} '{shot.name}'"
    reason = f"media of clip {shot.index} '{shot.name}' ({shot.track}) not found: {shot.media.missing}"
    verdict = failed_verdict(name, reason)
    decision = judge.undecided(verdict, Zone.FINAL, f"could not decide: {reason}")
    return FileOutcome(name, verdict, decision.judgement)


def unreadable(pf: PackageFile, reason: str, judge: Judge) -> FileOutcome:
    """A timeline the gate could not read: its own file is undecided, with why."""
    why = f"could not read the edit: {reason}"
    verdict = failed_verdict(pf.relpath, why)
    return FileOutcome(pf.relpath, verdict, judge.undecided(verdict, Zone.FINAL, f"could not decide: {why}")
                       .judgement, source=str(pf.path))


def results(p: EditPlan, outcomes: dict[str, FileOutcome], judge: Judge,
            allow_missing: bool) -> tuple[list[EditResult], list[AssetResult]]:
    """Each timeline's shots tied to their files' outcomes (keyed by absolute path), and the
    assets that only the edits add: clips whose media is missing (unless allowed)."""
    edits: list[EditResult] = []
    extra: list[AssetResult] = []
    for path, timeline, error in p.timelines:
        if timeline is None:
            edits.append(EditResult(path, None, error, allow_missing=allow_missing,
                                    relpath=p.names.get(path, "")))
            continue
        shots = []
        for shot in timeline.shots:
            outs = [outcomes[_key(f)] for f in shot.media.files if _key(f) in outcomes]
            for out in outs:  # where the edit sent the gate (remapped, outside the show) is said per file
                out.notes.extend(n for n in shot.media.notes if n not in out.notes)
            missing = None
            if shot.media.missing and not allow_missing:
                missing = _missing_outcome(path, shot, judge)
                extra.append(AssetResult(missing.relpath, [missing]))
            shots.append(ShotOutcome(shot, outs, missing))
        edits.append(EditResult(path, timeline, None, shots, allow_missing, p.names.get(path, "")))
    return edits, extra
