"""`<file>.xmp` sidecars: our XMP fields plus the asset's sha256, for files we cannot embed into.

Used for MXF/DPX/EXR/MKV, anything ExifTool and c2pa both refuse, and `--sidecar-only`
(camera originals whose bytes must not change). The sidecar is bound to the exact
bytes by `XMP-provenance:ContentHash=sha256:<hex>`; a reader finding a different hash
reports it stale. An existing sidecar (ours or another tool's) is edited in a copy, so
foreign fields survive; a new one is created by ExifTool as a metadata-only file.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from provenance import sidecars
from provenance.errors import TagError
from provenance.tagging.atomic import Workspace
from provenance.tagging.spec import TagSpec
from provenance.tagging.xmp import XmpTool
from provenance.vocabulary import XMP_NS


def sidecar_path(asset: Path) -> Path:
    return Path(sidecars.named(asset, sidecars.XMP))


def hash_field(sha256: str) -> dict[str, str]:
    return {f"{XMP_NS}:ContentHash": f"sha256:{sha256}"}


def is_current(xmp: XmpTool, asset: Path, spec: TagSpec, sha256: str) -> bool:
    side = sidecar_path(asset)
    return side.is_file() and xmp.matches(side, spec, hash_field(sha256))


def write_sidecar(xmp: XmpTool, ws: Workspace, asset: Path, spec: TagSpec, sha256: str) -> Path:
    """Write (or update) the sidecar via a temp, verify it reads back, rename into place."""
    side = sidecar_path(asset)
    temp = ws.new(".xmp")
    existing: os.stat_result | None = None
    if side.is_file():
        existing = os.stat(side)
        shutil.copyfile(side, temp)
    xmp.write_in_place(temp, spec, hash_field(sha256))
    if not xmp.matches(temp, spec, hash_field(sha256)):
        raise TagError("sidecar did not read back with our fields", side)
    if existing is None:
        # A new sidecar is as readable as its asset, never more.
        os.chmod(temp, os.stat(asset).st_mode & 0o666)
    ws.commit(temp, side, existing)
    return side
