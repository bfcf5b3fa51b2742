"""What a package will send: every file below the paths handed to the gate.

A genuine sidecar (`provenance.sidecars.is_sidecar`: beside its asset, and its bytes are
what such a sidecar holds) is skipped; a PNG renamed `shot.exr.xmp` is judged. Directory
symlinks are not followed (a loop must not hang the gate) but are yielded so they are
reported, never silently dropped.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from provenance.sidecars import is_sidecar


@dataclass(frozen=True)
class PackageFile:
    path: Path  # as found (a symlink stays a symlink: identify reports its target)
    root: Path  # the package folder it was found under (or the file's own folder)
    prefix: str = ""  # the root's own name, when several roots are gated together
    relpath: str = ""  # as reported; computed from the above when not given

    def __post_init__(self) -> None:
        if not self.relpath:
            object.__setattr__(self, "relpath", _relpath(self.path, self.root, self.prefix))


def _relpath(path: Path, root: Path, prefix: str) -> str:
    try:
        rel = path.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()
    return f"{prefix}/{rel}" if prefix else rel


def walk_package(paths: Iterable[str | os.PathLike[str]], approvals_dir: str = "") -> Iterator[PackageFile]:
    roots = list(paths)
    for raw in roots:
        p = Path(raw)
        if p.is_dir() and not p.is_symlink():
            root = p
            # Two roots may hold the same relative names (final/a.png, extras/a.png): keep them apart.
            prefix = Path(os.path.abspath(p)).name if len(roots) > 1 else ""
            top = str(p)
            for folder, dirs, files in os.walk(p):
                dirs.sort()
                here = Path(folder)
                # Relative names by string: pathlib's relative_to per file costs more than the walk.
                rel_dir = os.path.relpath(folder, top).replace(os.sep, "/")
                lead = "" if rel_dir == "." else rel_dir + "/"
                if prefix:
                    lead = f"{prefix}/{lead}"
                for name in sorted(files):
                    child = here / name
                    if not is_sidecar(child, approvals_dir):
                        yield PackageFile(child, root, prefix, lead + name)
                for name in dirs:
                    if (here / name).is_symlink():
                        yield PackageFile(here / name, root, prefix, lead + name)
        else:
            yield PackageFile(p, p.parent)


def outside(link_target: str | None, root: Path) -> bool:
    """True when a symlink's resolved target lies outside the package folder."""
    if link_target is None:
        return False
    try:
        Path(link_target).relative_to(root.resolve())
        return False
    except ValueError:
        return True
