"""Which files are timelines, and which OTIO adapter reads each (detected by name: an edit's
formats are text or containers whose content says little). `.xml` is everyone's suffix, so an
`.xml` file is an edit only when it is FCP 7 XML (its root element is `<xmeml>`); any other
XML handed to the gate (an IMF CPL, a vendor's metadata) stays a file like any other."""

from __future__ import annotations

import os

import defusedxml.ElementTree as SafeET

from provenance._os import open_regular

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
    if ext in BUNDLES:
        return os.path.isdir(path)
    if os.path.isdir(path):
        return False
    return _is_xmeml(path) if ext == ".xml" else True


def _is_xmeml(path: str | os.PathLike[str]) -> bool:
    """The root element's name, from the first start event (however long the prolog), parsed
    with defusedxml (no entity expansion)."""
    try:
        with open_regular(path) as fh:
            for _, element in SafeET.iterparse(fh, events=("start",)):
                return bool(element.tag == "xmeml")
    except Exception:  # unreadable or not XML: judged as a file, which says why
        return False
    return False
