"""What a package will send: every file below the paths handed to the gate, by the one walk
(`provenance.walk`): genuine sidecars skipped (a PNG renamed `shot.exr.xmp` is judged),
folder symlinks inside the package and folders the gate cannot enter yielded, so each is
undecided with its reason; a package root that is a symlink to a folder is followed.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from provenance.walk import walk


@dataclass(frozen=True)
class PackageFile:
    path: Path  # as found (a symlink stays a symlink: identify reports its target)
    root: Path  # the package folder it was found under (or the file's own folder)
    prefix: str = ""  # the root's own name, when several roots are gated together
    relpath: str = ""  # as reported; computed from the above when not given
    link: bool | None = None  # whether `path` is a symlink, when the walk's listing said so

    def __post_init__(self) -> None:
        if not self.relpath:
            object.__setattr__(self, "relpath", _relpath(self.path, self.root, self.prefix))

    @property
    def is_link(self) -> bool:
        """`path.is_symlink()`, without an lstat per call when the walk already knew."""
        if self.link is None:
            object.__setattr__(self, "link", self.path.is_symlink())
        return bool(self.link)


def _relpath(path: Path, root: Path, prefix: str) -> str:
    try:
        rel = path.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()
    return f"{prefix}/{rel}" if prefix else rel


def walk_package(paths: Iterable[str | os.PathLike[str]], approvals_dir: str = "") -> Iterator[PackageFile]:
    roots = [os.fspath(p) for p in paths]
    for root in roots:
        if not os.path.isdir(root):  # a named file (or whatever it is): reported by its own name
            p = Path(root)
            yield PackageFile(p, p.parent)
            continue
        # Two roots may hold the same relative names (final/a.png, extras/a.png): keep them apart.
        prefix = os.path.basename(os.path.abspath(root)) if len(roots) > 1 else ""
        top = Path(root)
        for entry in walk([root], approvals_dir=approvals_dir):
            rel = f"{prefix}/{entry.rel}" if prefix and entry.rel else (entry.rel or prefix or ".")
            yield PackageFile(Path(entry.path), top, prefix, rel, entry.link)


def outside(link_target: str | None, root: Path) -> bool:
    """True when a symlink's resolved target lies outside the package folder."""
    if link_target is None:
        return False
    try:
        Path(link_target).relative_to(root.resolve())
        return False
    except ValueError:
        return True
