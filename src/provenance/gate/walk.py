"""What a package will send: every file below the paths handed to the gate.

Unlike `pipeline.iter_files`, a name that looks like a sidecar (`x.exr.xmp`, `x.c2pa`,
`x.approval.json`) is only skipped when its first bytes are what such a sidecar holds:
a PNG renamed `shot.exr.xmp` beside `shot.exr` must not ride along unjudged. Directory
symlinks are not followed (a loop must not hang the gate) but are yielded so they are
reported, never silently dropped.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from provenance.identify import HEAD_BYTES, sniff_format

# Sidecar suffix → first bytes (after leading whitespace) such a sidecar may start with.
_SIDECARS: dict[str, tuple[bytes, ...]] = {
    ".xmp": (b"<?xpacket", b"<x:xmpmeta", b"<?xml", b"<rdf:RDF"),
    ".approval.json": (b"{",),
    ".c2pa": (b"\x00\x00",),  # a JUMBF superbox: 4-byte length then "jumb"
}


@dataclass(frozen=True)
class PackageFile:
    path: Path  # as found (a symlink stays a symlink: identify reports its target)
    root: Path  # the package folder it was found under (or the file's own folder)
    prefix: str = ""  # the root's own name, when several roots are gated together

    @property
    def relpath(self) -> str:
        try:
            rel = self.path.relative_to(self.root).as_posix()
        except ValueError:
            return self.path.as_posix()
        return f"{self.prefix}/{rel}" if self.prefix else rel


def _looks_like_sidecar(path: Path, suffix: str) -> bool:
    try:
        with open(path, "rb") as fh:
            head = fh.read(HEAD_BYTES)
    except OSError:
        return False  # unreadable: judge it, so it is reported as undecided
    if sniff_format(head) != "unknown":
        return False
    if suffix == ".c2pa":
        return head[4:8] == b"jumb"
    return head.lstrip().startswith(_SIDECARS[suffix])


def is_package_sidecar(path: Path, approvals_dir: str = "") -> bool:
    name = path.name
    for suffix in _SIDECARS:
        if not name.endswith(suffix) or len(name) == len(suffix):
            continue
        beside_asset = (path.parent / name[: -len(suffix)]).exists()
        # `approve` mirrors the package layout inside the approvals folder (x/approvals/a/b.approval.json).
        in_approvals = bool(approvals_dir) and suffix == ".approval.json" \
            and Path(approvals_dir).name in path.parent.parts
        if (beside_asset or in_approvals) and _looks_like_sidecar(path, suffix):
            return True
    return False


def walk_package(paths: Iterable[str | os.PathLike[str]], approvals_dir: str = "") -> Iterator[PackageFile]:
    roots = list(paths)
    for raw in roots:
        p = Path(raw)
        if p.is_dir() and not p.is_symlink():
            root = p
            # Two roots may hold the same relative names (final/a.png, extras/a.png): keep them apart.
            prefix = Path(os.path.abspath(p)).name if len(roots) > 1 else ""
            for folder, dirs, files in os.walk(p):
                dirs.sort()
                here = Path(folder)
                for name in sorted(files):
                    child = here / name
                    if not is_package_sidecar(child, approvals_dir):
                        yield PackageFile(child, root, prefix)
                for name in dirs:
                    if (here / name).is_symlink():
                        yield PackageFile(here / name, root, prefix)
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
