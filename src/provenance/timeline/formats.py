"""Which files are timelines, and which OTIO adapter reads each (detected by name: an edit's
formats are text or containers whose content says little; `.xml` is FCP 7 XML)."""

from __future__ import annotations

import os

# suffix → OTIO adapter name (the adapters' own plugin manifests register these names)
ADAPTERS: dict[str, str] = {
    ".otio": "otio_json",
    ".otioz": "otioz",
    ".otiod": "otiod",
    ".edl": "cmx_3600",
    ".xml": "fcp_xml",
    ".fcpxml": "otio_fcpx_xml_lite_adapter",
    ".aaf": "AAF",
}

BUNDLES = frozenset({".otiod"})  # a folder that is one timeline


def suffix(path: str | os.PathLike[str]) -> str:
    return os.path.splitext(os.fspath(path).rstrip("/"))[1].lower()


def is_timeline(path: str | os.PathLike[str]) -> bool:
    """A path handed to the gate that is read as an edit: a timeline file, or an `.otiod` bundle.
    A folder that merely contains timelines is a folder of files."""
    ext = suffix(path)
    if ext not in ADAPTERS:
        return False
    return os.path.isdir(path) if ext in BUNDLES else not os.path.isdir(path)
