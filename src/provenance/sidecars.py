"""Sidecars: files beside an asset that describe it (`clip.exr.xmp`, `clip.mxf.c2pa`,
`clip.exr.approval.json`) and are not assets themselves.

A name alone is not enough to skip a file: an AI PNG renamed `shot.exr.xmp` beside
`shot.exr` would otherwise ride along unjudged, in a delivery or on watched storage. A file
counts as a sidecar only when its asset exists beside it (or, for approvals, it sits in the
package approvals folder) AND its first bytes are what such a sidecar holds.
"""

from __future__ import annotations

import os
from pathlib import Path

from provenance.identify import HEAD_BYTES, sniff_format

# Suffix → first bytes (after leading whitespace) such a sidecar may start with.
_STARTS: dict[str, tuple[bytes, ...]] = {
    ".xmp": (b"<?xpacket", b"<x:xmpmeta", b"<?xml", b"<rdf:RDF"),
    ".approval.json": (b"{",),
    ".c2pa": (),  # a JUMBF superbox: 4-byte length, then "jumb"
}
SIDECAR_SUFFIXES: tuple[str, ...] = tuple(_STARTS)


def sidecar_suffix(path: str | Path) -> str | None:
    """The sidecar suffix a name carries (with a non-empty asset name before it), if any."""
    name = os.path.basename(path)
    for suffix in SIDECAR_SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            return suffix
    return None


def asset_of(path: str | Path) -> Path | None:
    """The asset a sidecar-named file would describe (`a.exr.xmp` → `a.exr`), by name only."""
    suffix = sidecar_suffix(path)
    return None if suffix is None else Path(str(path)[: -len(suffix)])


def looks_like_sidecar(path: Path, suffix: str) -> bool:
    try:
        with open(path, "rb") as fh:
            head = fh.read(HEAD_BYTES)
    except OSError:
        return False  # unreadable: judge it, so it is reported, never skipped
    if sniff_format(head) != "unknown":
        return False
    if suffix == ".c2pa":
        return head[4:8] == b"jumb"
    return head.lstrip().startswith(_STARTS[suffix])


def is_sidecar(path: Path, approvals_dir: str = "") -> bool:
    """Is `path` a genuine sidecar (skip it), rather than an asset with a sidecar-like name?"""
    suffix = sidecar_suffix(path)
    if suffix is None:
        return False
    beside_asset = Path(str(path)[: -len(suffix)]).exists()
    # `approve` mirrors the package layout inside the approvals folder (x/approvals/a/b.approval.json).
    in_approvals = bool(approvals_dir) and suffix == ".approval.json" \
        and Path(approvals_dir).name in path.parent.parts
    return (beside_asset or in_approvals) and looks_like_sidecar(path, suffix)
