"""Containers reader: media inside other files is judged like the file itself would be.

A ZIP or TAR holding an AI PNG, a PDF embedding an AI JPEG, an MP4 whose cover art is an AI
image, an MKV with an AI attachment: each member is taken out into a private temporary
folder (`_unpack`, `_pdf_members`, `_av_members`; within a byte, member, depth and time
budget) and read by the same readers the file would get on its own (c2pa + metadata, and
this reader again for a container inside a container). The container's class is the
strongest of its members': any AI member makes it AI; it is `not_ai` only when every member
is. Each member's evidence is reported under the member's name ("member renders/sky.png
inside package.zip: xmp XMP-iptcExt:DigitalSourceType").

What counts as a container is read from the content, never the name: the ZIP family (DOCX,
PPTX, XLSX, ODT, EPUB, USDZ, JAR are ZIPs), tar, gzip/bzip2/xz (a compressed tar or one
compressed file), PDF, and audio/video formats that carry pictures or attachments. A kind we
recognise but cannot open (7z, RAR, zstd, …), an encrypted member, an unsupported compression
method or a limit reached is an error naming the container, the member and the reason: the
gate is then undecided, never clear.
"""

from __future__ import annotations

import dataclasses
import os
import tempfile
import time
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from provenance.classify import classify
from provenance.errors import AssetError
from provenance.evidence import EvidenceReader, ReaderOutput, ReaderSettings
from provenance.evidence._av_members import AV_FORMATS, av_members, may_carry_pictures
from provenance.evidence._pdf_members import pdf_members
from provenance.evidence._unpack import (
    COMPRESSED_KINDS,
    Budget,
    ContainerError,
    Limits,
    Member,
    compressed_members,
    is_tar,
    tar_members,
    zip_members,
)
from provenance.identify import identify
from provenance.model import Asset, Classification, Declarations, Evidence, Signal

SOURCE = "container"
MEMBER_READERS = ("c2pa", "metadata")  # what a member gets; no sidecar can sit beside a member
_BATCH = 32  # members read per ExifTool round trip
_SNIFF_BYTES = 1024  # a tar header (512), a PDF header after junk (viewers look this far)
_PDF_HEADER_WINDOW = 1024
_ZIP_END = b"PK\x05\x06"
_ZIP_TAIL = 22 + 0xFFFF  # the end record plus the longest comment it may carry

# Magic numbers of archive kinds we have no library for: recognised so that they are
# undecided ("cannot be opened"), never silently clear.
_UNOPENABLE: tuple[tuple[bytes, str], ...] = (
    (b"7z\xbc\xaf\x27\x1c", "7z"),
    (b"Rar!\x1a\x07", "RAR"),
    (b"\x28\xb5\x2f\xfd", "zstd"),
    (b"\x04\x22\x4d\x18", "LZ4"),
    (b"MSCF\x00\x00\x00\x00", "CAB"),
    (b"\x1f\x9d", "compress (.Z)"),
    (b"LZIP", "lzip"),
    (b"070701", "cpio"),
    (b"070702", "cpio"),
    (b"070707", "cpio"),
    (b"\xc7\x71", "cpio"),
    (b"xar!", "XAR"),
)
_ARCHIVE_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"PK\x03\x04", "zip"),
    (b"PK\x05\x06", "zip"),  # an empty ZIP
    (b"PK\x07\x08", "zip"),  # a spanned/split ZIP's first part
    (b"\x1f\x8b", "gzip"),
    (b"BZh", "bzip2"),
    (b"\xfd7zXZ\x00", "xz"),
)
# Formats `identify` names that are not containers we open (kept tiny and explicit: only
# these skip the header look; anything `identify` does not know is sniffed here).
_ARCHIVE_FORMATS = frozenset({"unknown", "zip", "gzip", "bzip2", "xz", "tar", "7z", "rar", "zstd"})
_CLASS_ORDER = (Classification.AI_GENERATED, Classification.AI_EDITED)


def container_kinds(asset: Asset) -> tuple[str, ...]:
    """How `asset` holds other files, from its content: any of 'zip', 'tar', 'gzip', 'bzip2',
    'xz', 'pdf', 'av', 'unopenable:<kind>', and 'appended-zip' (a ZIP directory at the end of
    a file that is something else too: self-extracting archives, image+ZIP polyglots, which
    every unzip tool opens). Empty for a file that holds nothing we know of."""
    kinds: list[str] = []
    if asset.format == "pdf":
        kinds.append("pdf")
    elif asset.format in AV_FORMATS and may_carry_pictures(asset.path, asset.format):
        kinds.append("av")
    whole = asset.whole
    if whole is not None and _ZIP_END not in whole[-_ZIP_TAIL:]:  # the bytes hashed: no open
        if asset.format in _ARCHIVE_FORMATS:
            kinds.extend(_sniff_archive(whole[:_SNIFF_BYTES]))
        return tuple(kinds)
    try:
        # Non-blocking: if the path was swapped for a FIFO since identify, open must not hang.
        fd = os.open(asset.path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError:
        return tuple(kinds)  # identify just read it; the other readers report an unreadable file
    try:
        if asset.format in _ARCHIVE_FORMATS:
            kinds.extend(_sniff_archive(os.pread(fd, _SNIFF_BYTES, 0)))
        if "zip" not in kinds and _may_end_in_zip(fd):
            with os.fdopen(os.dup(fd), "rb") as fh:
                if zipfile.is_zipfile(fh):
                    kinds.append("appended-zip")
    except OSError:
        pass
    finally:
        os.close(fd)
    return tuple(kinds)


def _may_end_in_zip(fd: int) -> bool:
    """Is a ZIP end-of-directory signature within its reach of the end (one read)?"""
    size = os.fstat(fd).st_size
    span = min(size, _ZIP_TAIL)
    return _ZIP_END in os.pread(fd, span, size - span)


def _sniff_archive(head: bytes) -> list[str]:
    for magic, kind in _ARCHIVE_MAGIC:
        if head.startswith(magic):
            return [kind]
    for magic, kind in _UNOPENABLE:
        if head.startswith(magic):
            return [f"unopenable:{kind}"]
    if is_tar(head):
        return ["tar"]
    if b"%PDF-" in head[:_PDF_HEADER_WINDOW]:
        return ["pdf"]  # PDF readers accept junk before the header; identify wants it at 0
    return []


def combine(classes: Iterable[Classification]) -> Classification:
    """The strongest class: any AI member makes the whole AI; not_ai only if every member is."""
    found = set(classes)
    for cls in _CLASS_ORDER:
        if cls in found:
            return cls
    if found == {Classification.NOT_AI}:
        return Classification.NOT_AI
    return Classification.UNKNOWN


@dataclass
class _Judged:
    """What one container's members came to."""

    evidence: list[Evidence] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    declarations: Declarations = field(default_factory=Declarations)
    classes: list[Classification] = field(default_factory=list)


class ContainersReader:
    name = "containers"

    def __init__(self, settings: ReaderSettings, limits: Limits | None = None) -> None:
        self._settings = settings
        self._limits = limits or Limits()
        self._inner: list[EvidenceReader] | None = None

    def _readers(self) -> list[EvidenceReader]:
        if self._inner is None:  # first container only: ordinary deliveries never start them
            from provenance.evidence.registry import load_readers
            self._inner = load_readers(MEMBER_READERS, self._settings)
        return self._inner

    def close(self) -> None:
        for reader in self._inner or ():
            reader.close()
        self._inner = None

    def has_work(self, asset: Asset) -> bool:
        return bool(container_kinds(asset))

    def read(self, asset: Asset) -> ReaderOutput:
        kinds = container_kinds(asset)
        if not kinds:
            return ReaderOutput()
        # A little under the pipeline's per-reader limit, so we stop cleanly with a reason
        # instead of being abandoned mid-member.
        budget = Budget(self._limits, asset.size,
                        deadline=time.monotonic() + max(self._settings.time_limit_s - 2.0, 1.0))
        with tempfile.TemporaryDirectory(prefix="provenance-members-") as tmp:  # 0700, ours
            judged = self._judge(asset.path, kinds, asset.path.name, 0, budget, Path(tmp))
        evidence = judged.evidence
        overall = combine(judged.classes)
        if overall is not Classification.NOT_AI:  # a capture member does not vouch for the rest
            evidence = [_demote(e) if e.signal is Signal.CAPTURE else e for e in evidence]
        return ReaderOutput(evidence=evidence, errors=judged.errors, declarations=judged.declarations)

    # -- one container level -------------------------------------------------------------

    def _members(self, path: Path, kind: str, into: Path, budget: Budget) -> Iterator[Member]:
        if kind in ("zip", "appended-zip"):
            # An appended directory zipfile cannot parse is not taken for a ZIP: four bytes of
            # "PK\5\6" near the end of a video are chance, not an archive.
            return zip_members(path, into, budget, lenient=kind == "appended-zip")
        if kind == "tar":
            return tar_members(path, into, budget)
        if kind in COMPRESSED_KINDS:
            return compressed_members(path, kind, into, budget)
        if kind == "pdf":
            return pdf_members(path, into, budget)
        if kind == "av":
            return av_members(path, into, budget, timeout=budget.deadline - time.monotonic())
        raise ContainerError(f"{kind.removeprefix('unopenable:')} archives cannot be opened here, so "
                             "their members cannot be judged")

    def _judge(self, path: Path, kinds: tuple[str, ...], label: str, depth: int, budget: Budget,
               tmp: Path) -> _Judged:
        judged = _Judged()
        total = 0
        for kind in kinds:
            into = Path(tempfile.mkdtemp(dir=tmp))
            try:
                batch: list[Member] = []
                for member in self._members(path, kind, into, budget):
                    batch.append(member)
                    if len(batch) >= _BATCH:
                        total += self._judge_batch(batch, label, depth, budget, tmp, judged)
                        batch = []
                total += self._judge_batch(batch, label, depth, budget, tmp, judged)
            except ContainerError as exc:
                judged.errors.append(f"{label}: {exc.reason}")
        if total or judged.errors or kinds[0] not in ("av", "appended-zip"):
            # (a video without pictures says nothing worth a line)
            counts = ", ".join(f"{judged.classes.count(c)} {c}" for c in Classification
                               if judged.classes.count(c))
            judged.evidence.append(Evidence(SOURCE, "members", f"{label}: {total} members judged"
                                            + (f" ({counts})" if counts else "")))
        return judged

    def _judge_batch(self, batch: list[Member], label: str, depth: int, budget: Budget, tmp: Path,
                     judged: _Judged) -> int:
        try:
            assets: list[tuple[Member, Asset]] = []
            for member in batch:
                try:
                    assets.append((member, identify(member.path)))
                except AssetError as exc:
                    if member.path.stat().st_size == 0:
                        continue  # an empty member holds nothing to judge
                    judged.errors.append(f"{label}: member {member.name}: {exc.reason}")
            outputs: dict[int, list[ReaderOutput]] = {i: [] for i in range(len(assets))}
            for reader in self._readers():
                has_work = getattr(reader, "has_work", None)
                todo = [i for i, (_, a) in enumerate(assets) if has_work is None or has_work(a)]
                for i, out in zip(todo, _read_all(reader, [assets[i][1] for i in todo]), strict=True):
                    outputs[i].append(out)
            for i, (member, asset) in enumerate(assets):
                self._judge_member(member, asset, outputs[i], label, depth, budget, tmp, judged)
            return len(assets)
        finally:
            for member in batch:
                member.path.unlink(missing_ok=True)

    def _judge_member(self, member: Member, asset: Asset, outputs: list[ReaderOutput], label: str,
                      depth: int, budget: Budget, tmp: Path, judged: _Judged) -> None:
        where = f"member {member.name} inside {label}"
        own: list[Evidence] = []
        for out in outputs:
            own.extend(out.evidence)
            judged.errors.extend(f"{label}: member {member.name}: {e}" for e in out.errors)
            if out.declarations is not None:
                judged.declarations = judged.declarations.merged(out.declarations)
        member_class = classify(own)
        nested_kinds = container_kinds(asset)
        nested = _Judged()
        if nested_kinds:
            if depth + 1 >= self._limits.max_depth:
                judged.errors.append(f"{where}: a container nested more than {self._limits.max_depth} "
                                     "levels deep: not opened")
            else:
                nested = self._judge(asset.path, nested_kinds, f"{member.name} inside {label}", depth + 1,
                                     budget, tmp)
                judged.errors.extend(nested.errors)
                judged.declarations = judged.declarations.merged(nested.declarations)
                member_class = combine([member_class, *nested.classes]) if nested.classes else member_class
        judged.classes.append(member_class)
        for e in own:
            if e.signal is Signal.INFO:
                continue  # context of a member; the summary line counts it
            if e.signal is Signal.AI_GENERATED and member_class is Classification.AI_EDITED:
                e = _demote(e)  # the member's own C2PA chain says edited, as it would alone
            judged.evidence.append(
                dataclasses.replace(e, source=SOURCE, field=f"{where}: {e.source} {e.field}"))
        judged.evidence.extend(nested.evidence)


def _read_all(reader: EvidenceReader, assets: list[Asset]) -> list[ReaderOutput]:
    if not assets:
        return []
    many = getattr(reader, "read_many", None)
    if many is not None and len(assets) > 1:
        outs = many(assets)
        if outs is not None:
            return list(outs)
    return [reader.read(a) for a in assets]


def _demote(e: Evidence) -> Evidence:
    return dataclasses.replace(e, signal=Signal.INFO)
