"""Sidecars: files beside an asset that describe it (`clip.exr.xmp`, `clip.mxf.c2pa`,
`clip.exr.approval.json`) and are not assets themselves. The one naming rule: the walk
skips by it, the readers and the gate cache look beside an asset by it, `tag` and
`approve` write by it.

A name alone is not enough to skip a file: an AI PNG renamed `shot.exr.xmp` beside
`shot.exr` would otherwise ride along unjudged, in a delivery or on watched storage. A file
counts as a sidecar only when its asset exists beside it (or, for approvals, it sits in the
package approvals folder) AND it is a regular file whose first bytes are what such a
sidecar holds (read without ever blocking: a FIFO named like a sidecar is not one).
"""

from __future__ import annotations

import os
from collections.abc import Container
from pathlib import Path

from provenance._os import read_regular
from provenance.identify import HEAD_BYTES, sniff_format

XMP = ".xmp"
C2PA = ".c2pa"
APPROVAL = ".approval.json"

# Suffix → first bytes (after leading whitespace) such a sidecar may start with.
_STARTS: dict[str, tuple[bytes, ...]] = {
    XMP: (b"<?xpacket", b"<x:xmpmeta", b"<?xml", b"<rdf:RDF"),
    APPROVAL: (b"{",),
    C2PA: (),  # a JUMBF superbox: 4-byte length, then "jumb"
}
SIDECAR_SUFFIXES: tuple[str, ...] = tuple(_STARTS)


def named(asset: str | os.PathLike[str], suffix: str) -> str:
    """The sidecar `tag`/`approve` write for `asset`: its whole name plus the suffix
    (`clip.mxf.xmp`, never `clip.xmp`: clip.mov and clip.mxf must not share one)."""
    return os.fspath(asset) + suffix


def candidates(asset: str | os.PathLike[str], suffix: str) -> tuple[str, ...]:
    """Where a reader looks for `asset`'s `suffix` sidecar, preferred first: `clip.mxf.xmp`,
    then `clip.xmp` (what other tools, e.g. Lightroom, write)."""
    name = os.fspath(asset)
    stem, ext = os.path.splitext(name)
    # `clip.xmp` itself has no `clip.xmp` sidecar (it would describe itself).
    return (name + suffix, stem + suffix) if ext and stem + suffix != name else (name + suffix,)


def sidecar_suffix(path: str | os.PathLike[str]) -> str | None:
    """The sidecar suffix a name carries (with a non-empty asset name before it), if any."""
    name = os.path.basename(path)
    for suffix in SIDECAR_SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            return suffix
    return None


def asset_of(path: str | os.PathLike[str]) -> Path | None:
    """The asset a sidecar-named file would describe (`a.exr.xmp` → `a.exr`), by name only."""
    suffix = sidecar_suffix(path)
    return None if suffix is None else Path(os.fspath(path)[: -len(suffix)])


def looks_like_sidecar(path: str | os.PathLike[str], suffix: str) -> bool:
    try:
        head = read_regular(path, HEAD_BYTES)
    except OSError:
        return False  # unreadable, or not a regular file: judge it, so it is reported, never skipped
    if sniff_format(head) != "unknown":
        return False
    if suffix == C2PA:
        return head[4:8] == b"jumb"
    return head.lstrip().startswith(_STARTS[suffix])


def is_sidecar(path: str | os.PathLike[str], approvals_dir: str = "",
               siblings: Container[str] | None = None) -> bool:
    """Is `path` a genuine sidecar (skip it), rather than an asset with a sidecar-like name?

    `siblings`, the names in its folder when the caller has listed it (the walk), spares a
    stat for whether the asset is there.
    """
    suffix = sidecar_suffix(path)
    if suffix is None:
        return False
    text = os.fspath(path)
    asset = text[: -len(suffix)]
    beside_asset = (os.path.basename(asset) in siblings) if siblings is not None else os.path.exists(asset)
    # `approve` mirrors the package layout inside the approvals folder (x/approvals/a/b.approval.json).
    in_approvals = bool(approvals_dir) and suffix == APPROVAL \
        and Path(approvals_dir).name in Path(text).parent.parts
    return (beside_asset or in_approvals) and looks_like_sidecar(path, suffix)
