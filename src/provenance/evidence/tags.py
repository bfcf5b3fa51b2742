"""ExifTool's tag dict → Evidence, at once: nothing downstream ever sees raw tags.

Shared by the metadata reader (tags embedded in the file) and the sidecar reader (tags in
`<file>.xmp`). Facts become evidence through the signature table (known generators as
data), plus three things that are not pattern matches: our own `XMP-provenance:*`
declaration, a camera's Make/Model (capture), and ExifTool's own errors.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from provenance.evidence.signatures import SignatureTable, matchable
from provenance.model import Declarations, Evidence, Risk, Signal
from provenance.vocabulary import (
    AI_COMPOSITE_TYPES,
    AI_GENERATED_TYPES,
    CAPTURE_TYPES,
    IPTC_AI_PROMPT,
    IPTC_AI_SYSTEM,
    IPTC_AI_SYSTEM_VERSION,
    XMP_NS,
    dst_term,
    is_dst_tag,
)

OUR_GROUP = XMP_NS
_CLASS_SIGNAL = {"ai_generated": Signal.AI_GENERATED, "ai_edited": Signal.AI_EDITED}
_RISKS = {r.value: r for r in Risk}
# ExifTool warnings that mean the bytes are damaged, not merely unusual.
_DAMAGE = re.compile(r"(?i)truncated|format error|corrupt|unexpected end|bad .*(?:segment|chunk)")
# Errors that only say "this is not a media file ExifTool knows": not a failure to read.
_NOT_MEDIA = ("Unknown file type",)
_MAKE_KEYS = ("IFD0:Make", "XMP-tiff:Make", "Keys:Make", "UserData:Make", "ItemList:Make")
_MODEL_KEYS = ("IFD0:Model", "XMP-tiff:Model", "Keys:Model", "UserData:Model", "ItemList:Model")
_DST_SIGNAL = {**dict.fromkeys(AI_GENERATED_TYPES, Signal.AI_GENERATED),
               **dict.fromkeys(AI_COMPOSITE_TYPES, Signal.AI_EDITED),
               **dict.fromkeys(CAPTURE_TYPES, Signal.CAPTURE)}
# IPTC 2025.1 AI properties, by tag name (any group: XMP in the file, a sidecar, a container).
_AI_SYSTEM = IPTC_AI_SYSTEM.partition(":")[2].lower()
_AI_SYSTEM_VERSION = IPTC_AI_SYSTEM_VERSION.partition(":")[2].lower()
_AI_PROMPT = IPTC_AI_PROMPT.partition(":")[2].lower()


@dataclass
class TagFindings:
    evidence: list[Evidence] = field(default_factory=list)
    declarations: Declarations | None = None
    content_hash: str | None = None  # XMP-provenance:ContentHash (sidecars)
    errors: list[str] = field(default_factory=list)


def source_of(key: str) -> str:
    """A short container name for a family-1 group: xmp, exif, png, quicktime, id3, ..."""
    group = key.partition(":")[0]
    low = group.lower()
    if low.startswith("xmp"):
        return "xmp"
    if low in ("ifd0", "ifd1", "exififd", "gps", "interopifd", "subifd") or low.startswith("ifd"):
        return "exif"
    if low.startswith("png"):
        return "png"
    if low in ("keys", "itemlist", "userdata", "quicktime") or low.startswith("track"):
        return "quicktime"
    if low.startswith("id3"):
        return "id3"
    return low


def _first(tags: Mapping[str, Any], keys: tuple[str, ...]) -> str | None:
    for k in keys:
        v = tags.get(k)
        if v not in (None, ""):
            return str(v).strip()
    return None


def _short(value: str, limit: int = 300) -> str:
    value = " ".join(value.split())
    return value if len(value) <= limit else value[: limit - 1] + "…"


def _list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list):
        return [str(v).strip() for v in value]
    return [v.strip() for v in str(value).split(",")]


def _declaration(tags: Mapping[str, Any], source: str, out: TagFindings) -> None:
    ours = {k.partition(":")[2]: v for k, v in tags.items() if k.startswith(OUR_GROUP + ":")}
    if not ours:
        return
    out.content_hash = str(ours["ContentHash"]) if ours.get("ContentHash") else None
    # The tool and version are IPTC's AI system properties (what `tag` writes); our own
    # Tool/ToolVersion only in files tagged before those existed.
    iptc = {k.rpartition(":")[2].lower(): v for k, v in tags.items()
            if matchable(k) and v not in (None, "")}
    system, version = iptc.get(_AI_SYSTEM), iptc.get(_AI_SYSTEM_VERSION)
    tool = str(system) if system else str(ours["Tool"]) if ours.get("Tool") else None
    out.declarations = Declarations(
        tool=tool,
        tool_version=(str(version) if system and version else
                      str(ours["ToolVersion"]) if ours.get("ToolVersion") else None),
        purpose=str(ours["Purpose"]) if ours.get("Purpose") else None,
        risks=frozenset(_RISKS[r] for r in _list(ours.get("Risks")) if r in _RISKS),
    )
    classification = str(ours.get("Classification") or "").strip()
    if classification in _CLASS_SIGNAL:
        out.evidence.append(Evidence(source, f"{OUR_GROUP}:Classification", classification,
                                     _CLASS_SIGNAL[classification], tool))
    d = out.declarations
    out.evidence.append(Evidence(
        source, f"{OUR_GROUP}:*",
        f"tool={d.tool or '?'} purpose={d.purpose or '?'} "
        f"risks={','.join(sorted(d.risks)) or 'none'}",
        Signal.DECLARATION, tool))


def interpret(tags: Mapping[str, Any], table: SignatureTable, source: str | None = None) -> TagFindings:
    """Turn one file's tags into findings. `source` overrides the per-group source name."""
    out = TagFindings()
    error = tags.get("ExifTool:Error")
    if error and str(error) not in _NOT_MEDIA:
        out.errors.append(f"ExifTool: {error}")
    warning = tags.get("ExifTool:Warning")
    if warning:
        for w in _list(warning) if isinstance(warning, list) else [str(warning)]:
            if _DAMAGE.search(w) and not w.startswith("[minor]"):
                out.errors.append(f"damaged file: {w}")
            else:
                out.evidence.append(Evidence(source or "exiftool", "ExifTool:Warning", w))

    matched_keys: set[str] = set()
    for m in table.match(tags):
        matched_keys.add(m.key)
        out.evidence.append(Evidence(source or source_of(m.key), m.key, _short(m.value),
                                     m.signature.signal, m.signature.generator))

    _declaration(tags, source or "xmp", out)

    make, model = _first(tags, _MAKE_KEYS), _first(tags, _MODEL_KEYS)
    make_keys = {k for k in _MAKE_KEYS if k in tags}
    if (make and model and not (make_keys & matched_keys) and len(make) <= 64 and len(model) <= 64
            and not any(c in make + model for c in "{}[]")):
        out.evidence.append(Evidence(source or "exif", "Make/Model", f"{make} {model}",
                                     Signal.CAPTURE, f"{make} {model}"))
    _source_types(tags, source, out)
    _iptc_ai(tags, source, out)
    for key in ("IFD0:Software", "XMP-xmp:CreatorTool", "PNG:Software", "PDF:Producer"):
        if key in tags and key not in matched_keys:
            out.evidence.append(Evidence(source or source_of(key), key, _short(str(tags[key]))))
    return out


def _source_types(tags: Mapping[str, Any], source: str | None, out: TagFindings) -> None:
    """Every digital source type, by tag name in any group, read through the shared vocabulary
    (any case, http or https, surrounding whitespace): one piece of evidence per value."""
    for key, value in tags.items():
        if not (matchable(key) and is_dst_tag(key)):
            continue
        for item in dict.fromkeys(_list(value) if isinstance(value, list) else [str(value)]):
            term = dst_term(item)
            signal = _DST_SIGNAL.get(term, Signal.INFO) if term else Signal.INFO
            out.evidence.append(Evidence(source or source_of(key), key, _short(item), signal))


def _iptc_ai(tags: Mapping[str, Any], source: str | None, out: TagFindings) -> None:
    """IPTC's AI properties: an AI system named is AI involvement at least (ai_edited; a source
    type saying "generated" still decides), and it names the tool; the prompt is context."""
    named = {k.rpartition(":")[2].lower(): (k, v) for k, v in tags.items()
             if matchable(k) and v not in (None, "")}
    if _AI_SYSTEM in named:
        key, system = named[_AI_SYSTEM]
        version = named.get(_AI_SYSTEM_VERSION, (None, None))[1]
        tool = _short(f"{system} {version}" if version not in (None, "") else str(system), 120)
        out.evidence.append(Evidence(source or source_of(key), key, _short(str(system)),
                                     Signal.AI_EDITED, tool))
    if _AI_PROMPT in named:
        key, prompt = named[_AI_PROMPT]
        out.evidence.append(Evidence(source or source_of(key), key, _short(str(prompt))))
