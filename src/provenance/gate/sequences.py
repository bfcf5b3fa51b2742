"""Group numbered frames (`plate.0001.exr` … `plate.0100.exr`) into one reported asset.

A sequence is judged frame by frame; grouping only changes how it is reported: one line
with a frame count instead of a hundred. Only still-image extensions group, so numbered
movie files (`shot_010.mov`, `shot_020.mov`) stay separate assets.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from provenance.formats import FRAME_EXTENSIONS
from provenance.gate.walk import PackageFile

_FRAME = re.compile(r"^(?P<stem>.*?)(?P<sep>[._])(?P<num>\d{3,})\.(?P<ext>[A-Za-z0-9]+)$")


@dataclass(frozen=True)
class Group:
    name: str  # display name: the file's relpath, or `dir/plate.####.exr` for a sequence
    files: tuple[PackageFile, ...]
    frames: tuple[int, ...] = ()  # frame numbers, for a sequence

    @property
    def is_sequence(self) -> bool:
        return bool(self.frames)

    @property
    def missing_frames(self) -> list[int]:
        if not self.frames:
            return []
        have = set(self.frames)
        return [n for n in range(self.frames[0], self.frames[-1] + 1) if n not in have]


def group_files(files: Sequence[PackageFile], min_frames: int = 2) -> list[Group]:
    """Files in package order; numbered frames of one sequence collapse into one Group."""
    keyed: dict[tuple[str, str, str, str, int], list[tuple[int, PackageFile]]] = {}
    key_of: dict[int, tuple[str, str, str, str, int]] = {}
    for i, f in enumerate(files):
        m = _FRAME.match(f.path.name)
        if m is None or m["ext"].lower() not in FRAME_EXTENSIONS or f.path.is_symlink():
            continue
        folder = f.relpath.rpartition("/")[0]
        key = (folder, m["stem"], m["sep"], m["ext"], len(m["num"]))
        keyed.setdefault(key, []).append((int(m["num"]), f))
        key_of[i] = key
    groups: list[Group] = []
    emitted: set[tuple[str, str, str, str, int]] = set()
    for i, f in enumerate(files):
        found = key_of.get(i)
        members = keyed.get(found, []) if found else []
        if found is None or len(members) < min_frames:
            groups.append(Group(f.relpath, (f,)))
            continue
        if found in emitted:
            continue
        emitted.add(found)
        members.sort(key=lambda t: t[0])
        folder, stem, sep, ext, pad = found
        name = f"{folder + '/' if folder else ''}{stem}{sep}{'#' * pad}.{ext}"
        groups.append(Group(name, tuple(m[1] for m in members), tuple(m[0] for m in members)))
    return groups
