"""What a package will send: every file below the paths handed to the gate, by the one walk
(`provenance.walk`): genuine sidecars skipped (a PNG renamed `shot.exr.xmp` is judged),
folder symlinks inside the package and folders the gate cannot enter yielded, so each is
undecided with its reason; a package root that is a symlink to a folder is followed.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path

from provenance.walk import walk


class PackageFile:
    """One file the package will send. Built once per file of a 200,000-file package, so a
    plain slotted object whose `Path` is made only when asked for (a Path per file was a
    tenth of a warm gate); `text` is the OS path as the walk found it."""

    __slots__ = ("_path", "link", "prefix", "relpath", "root", "text")

    def __init__(self, path: str | os.PathLike[str], root: Path, prefix: str = "", relpath: str = "",
                 link: bool | None = None) -> None:
        self.text = os.fspath(path)  # as found (a symlink stays a symlink: identify reports its target)
        self._path = path if isinstance(path, Path) else None
        self.root = root  # the package folder it was found under (or the file's own folder)
        self.prefix = prefix  # the root's own name, when several roots are gated together
        self.link = link  # whether it is a symlink, when the walk's listing said so
        self.relpath = relpath or _relpath(self.path, root, prefix)  # as reported

    @property
    def path(self) -> Path:
        if self._path is None:
            self._path = Path(self.text)
        return self._path

    @property
    def is_link(self) -> bool:
        """`path.is_symlink()`, without an lstat per call when the walk already knew."""
        if self.link is None:
            self.link = os.path.islink(self.text)
        return bool(self.link)

    def _key(self) -> tuple[str, Path, str, str]:
        return self.text, self.root, self.prefix, self.relpath

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PackageFile) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return f"PackageFile({self.text!r}, root={str(self.root)!r}, relpath={self.relpath!r})"


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
            yield PackageFile(entry.path, top, prefix, rel, entry.link)


def outside(link_target: str | None, root: Path) -> bool:
    """True when a symlink's resolved target lies outside the package folder."""
    if link_target is None:
        return False
    try:
        Path(link_target).relative_to(root.resolve())
        return False
    except ValueError:
        return True
