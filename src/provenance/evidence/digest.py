"""One digest of everything that decides what the readers answer, besides the file's bytes.

A verdict cached under one set of readers must not be reused under another: a reader fixed
to see a marker it used to miss would otherwise leave the old "clear" standing. So the
digest covers every input of a reader's answer that is not the file itself:

- the readers chosen (names) and, for plug-ins, where they come from and their version;
- every field of `ReaderSettings` (trust anchors, extra signatures, time limit, and any
  field added later: the dataclass is hashed whole, and a field naming a file is hashed by
  that file's bytes, so a user signatures file counts by its content);
- the bytes of the package data the readers load (`signatures.toml`, `exiftool.config`) and
  of the reading code itself (`evidence/`, `classify.py`, `identify.py`, the format table and
  the vocabulary), so an edited editable install counts, not only a new release number;
- the versions of the libraries and tools underneath: c2pa-python, pyexiftool, pypdf, the
  ExifTool binary found on PATH (`exiftool -ver`, asked once per binary per process), and the
  ffmpeg/ffprobe binaries (by path and stat key).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Sequence
from functools import lru_cache
from importlib.metadata import PackageNotFoundError, entry_points, version
from pathlib import Path
from typing import Any

from provenance import __version__
from provenance.evidence import ReaderSettings

PACKAGE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = PACKAGE_DIR / "data"
# Package files whose bytes decide a reader's answer (globs relative to the package).
# pipeline.py assembles a verdict from the readers' outputs, sidecars.py says which sidecar a
# file has, _os.py how files are opened: each can change what a cached verdict says.
_CODE_GLOBS = ("evidence/*.py", "classify.py", "identify.py", "formats.py", "vocabulary.py",
               "model.py", "pipeline.py", "sidecars.py", "_os.py")
_DATA_GLOBS = ("*.toml", "*.config")


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()  # PEP 503, as importlib.metadata compares names


def _dist_version(dist: str) -> str | None:
    """The installed version of `dist`: from its metadata folder's name (`name-1.2.dist-info`,
    which every installer writes), found on sys.path in import order, else from importlib.metadata.
    `importlib.metadata.version` indexes every distribution on the path and parses the whole
    METADATA file (its long description too): 15-35 ms per gate for three versions."""
    wanted = _normal(dist)
    for entry in sys.path:
        try:
            names = os.listdir(entry or ".")
        except OSError:
            continue
        for name in names:
            stem, dot, kind = name.rpartition(".")
            if dot and kind in ("dist-info", "egg-info"):
                found, _, found_version = stem.partition("-")
                if _normal(found) == wanted and found_version:
                    return found_version.partition("-")[0]  # egg-info may add "-py3.11"
    try:
        return version(dist)
    except PackageNotFoundError:
        return None


def _file_digest(path: Path) -> str:
    try:
        with open(path, "rb") as fh:
            return hashlib.file_digest(fh, "sha256").hexdigest()
    except OSError as exc:
        return f"unreadable: {exc.strerror or exc}"


def _tree(root: Path, globs: Sequence[str]) -> dict[str, str]:
    return {str(p.relative_to(root)): _file_digest(p)
            for pattern in globs for p in sorted(root.glob(pattern)) if p.is_file()}


_VERSIONS_NOTE = "exiftool-versions.json"


@lru_cache(maxsize=8)
def _exiftool_version(binary: str, stat_key: tuple[int, ...]) -> str:
    """`exiftool -ver` of this binary; the stat key makes an upgrade in place a new entry.

    Remembered across runs in this user's private state (authenticated, private_state.py):
    starting Perl for it was 70 ms of CPU in every gate's start-up, cached files or not."""
    from provenance.private_state import read_note, write_note

    entry = json.dumps([binary, *stat_key])
    known = read_note(_VERSIONS_NOTE)
    if entry in known:
        return known[entry]
    try:
        done = subprocess.run([binary, "-ver"], capture_output=True, timeout=30, check=False)
    except (OSError, subprocess.SubprocessError) as exc:
        return f"failed: {exc}"
    answer = done.stdout.decode("utf-8", "replace").strip()
    if not answer or done.returncode != 0:
        return answer or f"failed: exit {done.returncode}"
    write_note(_VERSIONS_NOTE, {**dict(list(known.items())[-7:]), entry: answer})  # a few binaries at most
    return answer


def exiftool_identity() -> dict[str, str | None]:
    """Which ExifTool the metadata reader would start, and its version."""
    found = shutil.which("exiftool")
    if found is None:
        return {"path": None, "version": None}
    real = os.path.realpath(found)
    try:
        st = os.stat(real)
    except OSError as exc:
        return {"path": real, "version": f"unreadable: {exc.strerror}"}
    key = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
    return {"path": real, "version": _exiftool_version(real, key)}


def _binary_identity(name: str) -> list[Any] | None:
    """A tool found on PATH, by its real path and stat key (an upgrade in place changes it)."""
    found = shutil.which(name)
    if found is None:
        return None
    real = os.path.realpath(found)
    try:
        st = os.stat(real)
    except OSError as exc:
        return [real, f"unreadable: {exc.strerror}"]
    return [real, st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns]


def _reader_origins(readers: Sequence[str]) -> dict[str, Any]:
    """Built-ins are covered by the code digest; a plug-in by its target and its dist version."""
    from provenance.evidence.registry import BUILTIN_READERS  # registry imports this package

    # Scanning every installed distribution's entry points is ~20 ms: only for a plug-in name.
    plugins = ({ep.name: ep for ep in entry_points(group="provenance.readers")}
               if any(name not in BUILTIN_READERS for name in readers) else {})
    out: dict[str, Any] = {}
    for name in readers:
        if name in BUILTIN_READERS:
            out[name] = BUILTIN_READERS[name]
        elif name in plugins:
            ep = plugins[name]
            dist = ep.dist
            out[name] = [ep.value, dist.name if dist else None, dist.version if dist else None]
        else:
            out[name] = None
    return out


def _settings_material(settings: ReaderSettings) -> Any:
    def encode(value: Any) -> Any:
        if isinstance(value, os.PathLike):
            return {"file": os.fspath(value), "sha256": _file_digest(Path(value))}
        if isinstance(value, dict):
            return {str(k): encode(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
        if isinstance(value, (list, tuple, set, frozenset)):
            items = [encode(v) for v in value]
            return sorted(items, key=repr) if isinstance(value, (set, frozenset)) else items
        return value

    return {f.name: encode(getattr(settings, f.name)) for f in dataclasses.fields(settings)}


def readers_material(settings: ReaderSettings, readers: Sequence[str]) -> dict[str, Any]:
    """What `readers_digest` hashes, as a JSON-able dict (shown by diagnostics and tests)."""
    return {
        "provenance": __version__,
        "readers": list(readers),
        "reader_origins": _reader_origins(readers),
        "settings": _settings_material(settings),
        "code": _tree(PACKAGE_DIR, _CODE_GLOBS),
        "data": _tree(DATA_DIR, _DATA_GLOBS),
        "c2pa-python": _dist_version("c2pa-python"),
        "pyexiftool": _dist_version("pyexiftool"),
        "pypdf": _dist_version("pypdf"),  # the containers reader: images inside PDFs
        "exiftool": exiftool_identity(),
        "ffmpeg": _binary_identity("ffmpeg"),  # the containers reader: cover art, attachments
        "ffprobe": _binary_identity("ffprobe"),
    }


def readers_digest(settings: ReaderSettings, readers: Sequence[str] | None = None) -> str:
    """sha256 hex of everything besides a file's bytes that decides the readers' answer.

    `readers` defaults to the built-in reader list. Two calls give the same digest exactly
    when the same readers, configured the same way, over the same code, data and tools,
    would read a file the same way: a verdict cached under one digest is only valid under it.
    """
    if readers is None:
        from provenance.evidence.registry import DEFAULT_READERS

        readers = DEFAULT_READERS
    material = readers_material(settings, readers)
    return hashlib.sha256(json.dumps(material, sort_keys=True, default=str).encode()).hexdigest()
