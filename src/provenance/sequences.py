"""Image sequences named the way VFX names them: `plates/plate.1001-1004,1006-1010#.exr`.

The one grouping of numbered frames into reported units, shared by `inspect`, the gate, the
reports and the HTML. Parsing and naming are `fileseq`'s (the library Nuke/RV/OpenCue-style
pipelines use), so ranges with holes, `#`/`@`/`%04d` padding and negative frames mean what an
artist expects. Only still-image extensions group (`formats.FRAME_EXTENSIONS`): numbered movie
files (`shot_010.mov`, `shot_020.mov`) are separate assets.

Grouping only changes how things are reported, never what is judged: every item given comes
back in exactly one group, or the call raises (a frame dropped from a report would be a
frame nobody was told about).
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Iterable
from collections.abc import Sequence as Sequence_
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from provenance.formats import FRAME_EXTENSIONS

if TYPE_CHECKING:
    from types import ModuleType


@functools.cache
def _fileseq() -> ModuleType:
    """fileseq (and its ANTLR parser), imported when a sequence is first parsed or named: a
    fifth of a gate's start-up imports, and a package without frames never needs it."""
    import fileseq

    return fileseq

T = TypeVar("T")

# How a padded frame number is written in a name. fileseq's own style: `#` is four digits,
# `@` one, so 4 → `#`, 3 → `@@@`, 8 → `##`; `@` writes one `@` per digit; printf is `%04d`.
PAD_STYLES = ("#", "@", "%d")


def frame_range(frames: Iterable[int]) -> str:
    """Frame numbers as a range with holes: `1001-1004,1006-1010` (any order, repeats ignored)."""
    return str(_fileseq().FrameSet(sorted(set(frames))).frameRange())


@dataclass(frozen=True)
class Sequence:
    """Numbered frames of one image sequence: where they are and which frames exist."""

    folder: str  # "plates/" (with its slash) or ""
    stem: str  # "plate." — everything before the frame number
    extension: str  # ".exr"
    pad: int  # digits in a frame number, a minus sign counted ("-001" is 4)
    frames: tuple[int, ...]  # sorted, distinct

    @property
    def frame_range(self) -> str:
        """`1001-1004,1006-1010`: every frame there is, holes left out."""
        return frame_range(self.frames)

    @property
    def missing(self) -> list[int]:
        """Frames between the first and the last that are not there."""
        have = set(self.frames)
        return [n for n in range(self.frames[0], self.frames[-1] + 1) if n not in have]

    def padding(self, style: str = "#") -> str:
        if style == "%d":
            return f"%0{self.pad}d"
        if style == "@":
            return "@" * self.pad
        fileseq = _fileseq()
        return str(fileseq.FileSequence.getPaddingChars(self.pad, fileseq.PAD_STYLE_HASH4))

    def pattern(self, style: str = "#") -> str:
        """The name without a range: `plates/plate.####.exr` (style "@"), `plates/plate.%04d.exr`."""
        return f"{self.folder}{self.stem}{self.padding(style)}{self.extension}"

    @property
    def name(self) -> str:
        """The display name: `plates/plate.1001-1004,1006-1010#.exr`."""
        return f"{self.folder}{self.stem}{self.frame_range}{self.padding()}{self.extension}"

    def frame_path(self, frame: int) -> str:
        digits = f"{abs(frame):0{self.pad - (frame < 0)}d}"
        return f"{self.folder}{self.stem}{'-' if frame < 0 else ''}{digits}{self.extension}"

    def to_dict(self) -> dict[str, object]:
        return {"range": self.frame_range, "count": len(self.frames), "first": self.frames[0],
                "last": self.frames[-1], "missing": self.missing, "pattern": self.pattern("%d")}


class Framed:
    """What a reported unit says about its frames, from its `sequence` (None: a single file)."""

    sequence: Sequence | None

    @property
    def is_sequence(self) -> bool:
        return self.sequence is not None

    @property
    def frames(self) -> tuple[int, ...]:
        return self.sequence.frames if self.sequence is not None else ()

    @property
    def missing_frames(self) -> list[int]:
        return self.sequence.missing if self.sequence is not None else []


@dataclass(frozen=True)
class Group(Framed, Generic[T]):
    """One reported unit: a single item, or the frames of a sequence in frame order."""

    name: str  # the item's path, or the sequence's display name
    items: tuple[T, ...]
    sequence: Sequence | None = None


def split(g: Group[T], key: Callable[[T], object]) -> list[Group[T]]:
    """A sequence's frames in runs that agree on `key` (a report row's content), each a Group
    named for its own frames (`plate.1001-1006,1008-1012#.png`, `plate.1007.png`): one row per
    distinct answer, never a frame shown under an answer that is not its own. A single item
    comes back as it is."""
    if g.sequence is None:
        return [g]
    runs: dict[object, list[tuple[int, T]]] = {}
    for frame, item in zip(g.sequence.frames, g.items, strict=True):
        runs.setdefault(key(item), []).append((frame, item))
    if len(runs) == 1:
        return [g]
    out: list[Group[T]] = []
    for run in runs.values():
        if len(run) == 1:
            out.append(Group(g.sequence.frame_path(run[0][0]), (run[0][1],)))
            continue
        seq = dataclasses.replace(g.sequence, frames=tuple(f for f, _ in run))
        out.append(Group(seq.name, tuple(i for _, i in run), seq))
    return out


@functools.cache
def _natural() -> Callable[[str], Any]:
    from natsort import natsort_keygen

    return natsort_keygen()


def natural_key(name: str) -> Any:
    """Names as people sort them: `f998` before `f2999`, digits as numbers (natsort, as `inspect`)."""
    return _natural()(name)


def is_frame_name(path: str) -> bool:
    return path.rpartition(".")[2].lower() in FRAME_EXTENSIONS


def find_sequences(paths: Sequence_[str], groupable: Callable[[int], bool] | None = None, *,
                   min_frames: int = 2) -> dict[int, Group[int]]:
    """The sequences among `paths` (reported, "/"-separated), as groups of indexes into
    `paths` keyed by the index of each one's first frame; every other path stands alone.
    Only names with a frame extension are looked at, so a package of 200,000 text files costs
    one suffix check each. `groupable(i)` false keeps path `i` alone; two equal paths are
    never grouped (two packages gated together)."""
    seen: dict[str, int] = {}
    for p in paths:
        if is_frame_name(p):
            seen[p] = seen.get(p, 0) + 1
    candidates = {p: n for n, p in enumerate(paths)
                  if seen.get(p) == 1 and (groupable is None or groupable(n))}
    first_of: dict[int, Group[int]] = {}
    for found in _fileseq().findSequencesInList(list(candidates)) if candidates else ():
        frame_set = found.frameSet()
        if frame_set is None or len(frame_set) < min_frames:
            continue
        seq = Sequence(str(found.dirname()), str(found.basename()), str(found.extension()),
                       int(found.zfill()), tuple(sorted(map(int, frame_set))))
        indexes = [candidates.get(seq.frame_path(f)) for f in seq.frames]
        at = [i for i in indexes if i is not None]
        if len(at) != len(indexes):
            continue  # a name fileseq reads differently than it writes: leave its frames single
        first_of[min(at)] = Group(seq.name, tuple(at), seq)
    return first_of


def group(items: Iterable[T], path_of: Callable[[T], str], *, groupable: Callable[[T], bool] | None = None,
          min_frames: int = 2) -> list[Group[T]]:
    """`items` in their own order, the frames of each sequence collapsed into one Group at the
    place of its first frame. `path_of` gives an item's path as reported ("/"-separated);
    `groupable` may keep an item on its own (the gate keeps symlinks apart: each says where it
    points). Two items with the same path are never grouped (two packages gated together)."""
    items = list(items)
    paths = [path_of(i) for i in items]
    first_of = find_sequences(paths, None if groupable is None else (lambda n: groupable(items[n])),
                              min_frames=min_frames)
    member = {i for g in first_of.values() for i in g.items}
    groups: list[Group[T]] = []
    for n, (p, item) in enumerate(zip(paths, items, strict=True)):
        if n in first_of:
            g = first_of[n]
            groups.append(Group(g.name, tuple(items[i] for i in g.items), g.sequence))
        elif n not in member:
            groups.append(Group(p, (item,)))
    if sum(len(g.items) for g in groups) != len(items):  # the invariant reports depend on
        raise AssertionError("sequence grouping lost or repeated an item")
    return groups


def group_paths(paths: Iterable[str], *, min_frames: int = 2) -> list[Group[str]]:
    """Paths as groups (`group` with each path as its own item)."""
    return group(paths, str, min_frames=min_frames)
