"""The three IMF documents as typed values, parsed safely (defusedxml: no entities, no DTDs).

- ASSETMAP (SMPTE ST 429-9): asset UUID → path inside the package (a PKL is flagged
  `PackingList`).
- PKL (ST 429-8:2007 and ST 2067-2:2016 namespaces): every asset's Id, Hash (base64), Size,
  Type, and the hash algorithm (SHA-1 when absent, as ST 429-8 defines; ST 2067-2:2020 allows
  only SHA-1).
- CPL (ST 2067-3 2013, 2016 and 2020 namespaces): EditRate, optional CompositionTimecode,
  Segments of Sequences (any element in a SequenceList: MainImageSequence, MainAudioSequence,
  subtitles, markers…), each a list of Resources in edit units.

Elements are matched by local name within the document's own namespace, so a 2013 and a
2016 CPL read the same; a root element in a namespace we do not know is refused (we would be
guessing what its fields mean). Anything malformed raises `ImfError` naming the document and
what is wrong: the caller turns it into "could not decide".
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from xml.etree.ElementTree import Element

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from provenance._os import read_bounded

ASSETMAP_NS = frozenset({"http://www.smpte-ra.org/schemas/429-9/2007/AM"})
PKL_NS = frozenset({"http://www.smpte-ra.org/schemas/429-8/2007/PKL",
                    "http://www.smpte-ra.org/schemas/2067-2/2016/PKL"})
CPL_NS = frozenset({"http://www.smpte-ra.org/schemas/2067-3/2013",
                    "http://www.smpte-ra.org/schemas/2067-3/2016",
                    "http://www.smpte-ra.org/ns/2067-3/2020"})
SHA1 = "http://www.w3.org/2000/09/xmldsig#sha1"
SHA256 = "http://www.w3.org/2001/04/xmlenc#sha256"
HASH_ALGORITHMS = {SHA1: "sha1", SHA256: "sha256"}
MAX_XML_BYTES = 64 << 20  # a CPL of a long feature is a few MB
_UUID = re.compile(r"urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


class ImfError(Exception):
    def __init__(self, reason: str, document: str | None = None) -> None:
        super().__init__(f"{document}: {reason}" if document else reason)
        self.reason = reason
        self.document = document


@dataclass(frozen=True)
class MappedAsset:
    id: str
    path: str  # as written in the ASSETMAP (checked against the package by `package.py`)
    packing_list: bool = False


@dataclass(frozen=True)
class ListedAsset:
    id: str
    hash: bytes  # the digest, decoded from base64
    algorithm: str  # "sha1" | "sha256"
    size: int
    type: str
    original_name: str | None = None


@dataclass(frozen=True)
class PackingList:
    id: str
    document: str  # the PKL's path in the package, for messages
    assets: tuple[ListedAsset, ...]


@dataclass(frozen=True)
class Resource:
    id: str
    track_file_id: str | None  # None for a resource that carries no track file (markers)
    edit_rate: Fraction  # the resource's own edit rate (the CPL's when not given)
    entry_point: int
    source_duration: int
    repeat_count: int

    @property
    def duration(self) -> int:
        """Edit units of the resource's own rate it fills on the timeline."""
        return self.source_duration * self.repeat_count


@dataclass(frozen=True)
class Sequence:
    id: str
    kind: str  # the element's local name: MainImageSequence, MainAudioSequence, …
    track_id: str | None
    resources: tuple[Resource, ...]


@dataclass(frozen=True)
class Segment:
    id: str
    sequences: tuple[Sequence, ...]


@dataclass(frozen=True)
class Timecode:
    start: str  # HH:MM:SS:FF
    rate: int
    drop_frame: bool


@dataclass(frozen=True)
class Composition:
    id: str
    document: str
    title: str
    edit_rate: Fraction
    timecode: Timecode | None
    segments: tuple[Segment, ...]


def _local(tag: str) -> tuple[str, str]:
    ns, _, name = tag[1:].partition("}") if tag.startswith("{") else ("", "", tag)
    return ns, name


def _children(el: Element, name: str) -> list[Element]:
    return [c for c in el if _local(c.tag)[1] == name]


def _child(el: Element, name: str, document: str, *, required: bool = True) -> Element | None:
    found = _children(el, name)
    if len(found) > 1:
        raise ImfError(f"<{_local(el.tag)[1]}> has {len(found)} <{name}> elements (one expected)", document)
    if not found and required:
        raise ImfError(f"<{_local(el.tag)[1]}> has no <{name}>", document)
    return found[0] if found else None


def _text(el: Element, name: str, document: str, *, required: bool = True) -> str | None:
    child = _child(el, name, document, required=required)
    if child is None:
        return None
    return (child.text or "").strip()


def _uuid(el: Element, name: str, document: str, *, required: bool = True) -> str | None:
    value = _text(el, name, document, required=required)
    if value is None:
        return None
    if not _UUID.fullmatch(value.lower()):
        raise ImfError(f"<{name}> {value!r} is not a urn:uuid", document)
    return value.lower()  # UUIDs compare case-insensitively (RFC 4122)


def _int(el: Element, name: str, document: str, default: int | None = None) -> int:
    value = _text(el, name, document, required=default is None)
    if value is None:
        assert default is not None
        return default
    if not value.isdigit():
        raise ImfError(f"<{name}> {value!r} is not a non-negative integer", document)
    return int(value)


def _rate(text: str, document: str) -> Fraction:
    parts = text.split()
    if len(parts) != 2 or not all(p.isdigit() for p in parts) or int(parts[0]) == 0 or int(parts[1]) == 0:
        raise ImfError(f"edit rate {text!r} is not two positive integers", document)
    return Fraction(int(parts[0]), int(parts[1]))


def parse_xml(path: Path, document: str, namespaces: frozenset[str], root_name: str) -> Element:
    """The document's root element, parsed without entities or DTDs, in one of `namespaces`."""
    try:
        data = read_bounded(path, MAX_XML_BYTES)
    except OSError as exc:  # TooLarge among them: "larger than 64 MiB"
        raise ImfError(f"cannot read: {exc.strerror or exc}", document) from None
    try:
        root: Element = SafeET.fromstring(data, forbid_dtd=True)
    except DefusedXmlException as exc:
        raise ImfError(f"refused XML construct ({type(exc).__name__})", document) from None
    except SafeET.ParseError as exc:
        raise ImfError(f"not well-formed XML ({exc})", document) from None
    ns, name = _local(root.tag)
    if name != root_name:
        raise ImfError(f"root element is <{name}>, not <{root_name}>", document)
    if ns not in namespaces:
        raise ImfError(f"<{name}> in unknown namespace {ns!r}", document)
    return root


def namespace_of(path: Path) -> tuple[str, str] | None:
    """(namespace, local name) of a document's root, or None when it is not XML we can read."""
    try:
        root = SafeET.fromstring(read_bounded(path, MAX_XML_BYTES), forbid_dtd=True)
    except (OSError, DefusedXmlException, SafeET.ParseError):
        return None
    return _local(root.tag)


def parse_assetmap(path: Path, document: str = "ASSETMAP.xml") -> list[MappedAsset]:
    root = parse_xml(path, document, ASSETMAP_NS, "AssetMap")
    asset_list = _child(root, "AssetList", document)
    assert asset_list is not None
    out = []
    for asset in _children(asset_list, "Asset"):
        uid = _uuid(asset, "Id", document)
        assert uid is not None
        chunks = _child(asset, "ChunkList", document)
        assert chunks is not None
        chunk = _children(chunks, "Chunk")
        if len(chunk) != 1:
            # IMF (ST 2067-2) allows one chunk per asset: a split file has no single path to hash.
            raise ImfError(f"asset {uid} has {len(chunk)} chunks (IMF allows exactly one)", document)
        where = _text(chunk[0], "Path", document)
        assert where is not None
        flag = (_text(asset, "PackingList", document, required=False) or "").lower()
        out.append(MappedAsset(uid, where, flag in ("true", "1")))
    return out


def parse_pkl(path: Path, document: str) -> PackingList:
    root = parse_xml(path, document, PKL_NS, "PackingList")
    pkl_id = _uuid(root, "Id", document)
    asset_list = _child(root, "AssetList", document)
    assert pkl_id is not None and asset_list is not None
    out = []
    for asset in _children(asset_list, "Asset"):
        uid = _uuid(asset, "Id", document)
        assert uid is not None
        algo_el = _child(asset, "HashAlgorithm", document, required=False)
        uri = algo_el.get("Algorithm", "") if algo_el is not None else SHA1
        if uri not in HASH_ALGORITHMS:
            raise ImfError(f"asset {uid}: hash algorithm {uri!r} is not one we can check", document)
        raw = _text(asset, "Hash", document) or ""
        try:
            digest = base64.b64decode(raw, validate=True)
        except (binascii.Error, ValueError):
            raise ImfError(f"asset {uid}: <Hash> {raw!r} is not base64", document) from None
        want = 20 if HASH_ALGORITHMS[uri] == "sha1" else 32
        if len(digest) != want:
            raise ImfError(f"asset {uid}: <Hash> is {len(digest)} bytes, not a {HASH_ALGORITHMS[uri]} digest",
                           document)
        out.append(ListedAsset(uid, digest, HASH_ALGORITHMS[uri], _int(asset, "Size", document),
                               _text(asset, "Type", document) or "",
                               _text(asset, "OriginalFileName", document, required=False)))
    return PackingList(pkl_id, document, tuple(out))


def _resource(el: Element, rate: Fraction, document: str) -> Resource:
    rid = _uuid(el, "Id", document)
    assert rid is not None
    own = _text(el, "EditRate", document, required=False)
    intrinsic = _int(el, "IntrinsicDuration", document)
    entry = _int(el, "EntryPoint", document, 0)
    duration = _int(el, "SourceDuration", document, max(0, intrinsic - entry))
    if entry + duration > intrinsic:
        raise ImfError(f"resource {rid}: EntryPoint {entry} + SourceDuration {duration} exceeds "
                       f"IntrinsicDuration {intrinsic}", document)
    return Resource(rid, _uuid(el, "TrackFileId", document, required=False),
                    _rate(own, document) if own else rate, entry, duration,
                    _int(el, "RepeatCount", document, 1))


def parse_cpl(path: Path, document: str) -> Composition:
    root = parse_xml(path, document, CPL_NS, "CompositionPlaylist")
    cid = _uuid(root, "Id", document)
    rate = _rate(_text(root, "EditRate", document) or "", document)
    assert cid is not None
    tc_el = _child(root, "CompositionTimecode", document, required=False)
    timecode = None
    if tc_el is not None:
        start = _text(tc_el, "TimecodeStartAddress", document) or ""
        if not re.fullmatch(r"\d\d:\d\d:\d\d[:;]\d\d", start):
            raise ImfError(f"TimecodeStartAddress {start!r} is not HH:MM:SS:FF", document)
        drop = (_text(tc_el, "TimecodeDropFrame", document) or "").lower() in ("true", "1")
        timecode = Timecode(start, _int(tc_el, "TimecodeRate", document), drop)
    segment_list = _child(root, "SegmentList", document)
    assert segment_list is not None
    segments = []
    for seg in _children(segment_list, "Segment"):
        sid = _uuid(seg, "Id", document)
        seq_list = _child(seg, "SequenceList", document)
        assert sid is not None and seq_list is not None
        sequences = []
        for seq in seq_list:
            qid = _uuid(seq, "Id", document)
            res_list = _child(seq, "ResourceList", document)
            assert qid is not None and res_list is not None
            resources = tuple(_resource(r, rate, document) for r in _children(res_list, "Resource"))
            track = _uuid(seq, "TrackId", document, required=False)
            sequences.append(Sequence(qid, _local(seq.tag)[1], track, resources))
        segments.append(Segment(sid, tuple(sequences)))
    title = _text(root, "ContentTitle", document, required=False) or ""
    return Composition(cid, document, title, rate, timecode, tuple(segments))
