"""Take the members out of a container into a private folder, within a budget.

Every extractor yields `Member`s one at a time: a name for reports (as the container spells it,
made printable) and a file in the caller's private folder, named by us (never by the
container: no `../`, absolute or device paths can come from a member name). Bytes are
stream-copied and counted as they arrive; a size a header declares is never trusted.

A container we recognise but cannot fully open (an encrypted member, an unsupported
compression method, a limit reached, a kind we have no library for) raises `ContainerError`
naming the member and the reason: its members cannot be judged, so the caller must not
say "clear".
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import os
import re
import shutil
import tarfile
import time
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

_Readable = IO[bytes] | io.BufferedIOBase

_CHUNK = 1 << 20
# zipfile can inflate these (stored, deflate, bzip2, lzma); anything else it cannot.
_ZIP_METHODS = frozenset({zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA})
_COMPRESSED_STREAMS: dict[str, Callable[[Path], io.BufferedIOBase]] = {
    "gzip": gzip.GzipFile, "bzip2": bz2.BZ2File, "xz": lzma.LZMAFile}
COMPRESSED_KINDS = frozenset(_COMPRESSED_STREAMS)
_INFLATE_ERRORS = (EOFError, OSError, ValueError, lzma.LZMAError, zlib.error)
_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f]")


class ContainerError(Exception):
    """A container whose members cannot all be judged; `reason` names the member and why."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


@dataclass(frozen=True)
class Limits:
    """Bounds on what one container (with everything nested in it) may cost.

    `ratio`: the bytes all members may inflate to, as a multiple of the outermost container's
    size on disk (at least `floor_bytes`, at most `max_bytes`). Media compresses little, so a
    real delivery archive stays far below it; a zip bomb is stopped early, after writing at
    most that much, instead of filling the disk.
    """

    max_depth: int = 4
    max_members: int = 10_000
    ratio: int = 100
    floor_bytes: int = 64 << 20
    max_bytes: int = 16 << 30


@dataclass
class Budget:
    """What is left for one outermost container: bytes, members, time."""

    limits: Limits
    container_size: int
    deadline: float  # time.monotonic()
    written: int = 0
    members: int = 0
    max_bytes: int = field(init=False)

    def __post_init__(self) -> None:
        self.max_bytes = min(self.limits.max_bytes,
                             max(self.limits.floor_bytes, self.limits.ratio * self.container_size))

    def count_member(self, name: str) -> None:
        self.members += 1
        if self.members > self.limits.max_members:
            raise ContainerError(f"more than {self.limits.max_members} members (stopped at {name})")
        if time.monotonic() > self.deadline:
            raise ContainerError(f"time limit reached after {self.members - 1} members (at {name})")

    def copy(self, src: _Readable, dst: Path, name: str) -> None:
        """Stream `src` into a new private file `dst`, charging every byte to the budget."""
        fd = os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out:
            while chunk := src.read(_CHUNK):
                self.written += len(chunk)
                if self.written > self.max_bytes:
                    raise ContainerError(
                        f"member {name}: inflates beyond the limit of {self.max_bytes} bytes for a "
                        f"{self.container_size}-byte container (a decompression bomb?)")
                out.write(chunk)


@dataclass(frozen=True)
class Member:
    name: str  # as the container names it, printable
    path: Path  # our extracted copy


def printable(name: str) -> str:
    """A member name safe to put in a report line (control characters escaped)."""
    return _UNPRINTABLE.sub(lambda m: f"\\x{ord(m.group()):02x}", name) or "(unnamed)"


class _Extractor:
    def __init__(self, into: Path, budget: Budget) -> None:
        self._into = into
        self._budget = budget
        self._n = 0

    def take(self, src: _Readable, raw_name: str) -> Member:
        name = printable(raw_name)
        self._n += 1
        # Our own name; the member's extension is kept only when harmless, as ExifTool takes
        # it as a hint (the format itself is always sniffed from the bytes).
        ext = os.path.splitext(raw_name)[1].lower()
        ext = ext if re.fullmatch(r"\.[a-z0-9]{1,8}", ext) else ""
        path = self._into / f"m{self._n:06d}{ext}"
        self._budget.copy(src, path, name)
        return Member(name, path)


def zip_members(path: Path, into: Path, budget: Budget, *, lenient: bool = False) -> Iterator[Member]:
    """`lenient`: a directory zipfile cannot parse at all means "not a ZIP" (no members)."""
    take = _Extractor(into, budget).take
    try:
        try:
            zf = zipfile.ZipFile(path)
        except zipfile.BadZipFile:
            if lenient:
                return
            raise
        with zf:
            hidden = _unlisted_entry(path, zf, scan_from=None if lenient else 0)
            if hidden is not None:
                raise ContainerError(
                    f"holds a file entry its directory does not list (at byte {hidden}): unzip tools that "
                    "read entries in order extract it, so it cannot be left unjudged")
            for info in zf.infolist():
                name = printable(info.filename)
                if info.is_dir():
                    continue
                budget.count_member(name)
                if info.flag_bits & 0x1:
                    raise ContainerError(f"member {name} is encrypted: it cannot be read")
                if info.compress_type not in _ZIP_METHODS:
                    raise ContainerError(
                        f"member {name} uses compression method {info.compress_type}, which cannot be "
                        "unpacked here")
                with zf.open(info) as src:
                    yield take(src, info.filename)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, RuntimeError,
            *_INFLATE_ERRORS) as exc:
        raise ContainerError(f"not a readable ZIP archive: {exc}") from None


_LOCAL_HEADER = b"PK\x03\x04"
_DESCRIPTOR_MAX = 24  # a zip64 data descriptor with its signature


def _unlisted_entry(path: Path, zf: zipfile.ZipFile, scan_from: int | None) -> int | None:
    """The offset of a local file header that no directory entry accounts for, if any.

    zipfile (like most tools) lists what the central directory lists; streaming readers walk
    the local headers instead. An entry present only as a local header is a parser
    differential, the classic way to slip one file past a checker. Every byte between
    `scan_from` (the first listed entry when None: what precedes an appended ZIP is its
    host file) and the directory is either inside a listed entry or searched here.
    """
    start_dir: int = zf.start_dir
    covered: list[tuple[int, int]] = []
    with open(path, "rb") as fh:
        for info in zf.infolist():
            fh.seek(info.header_offset)
            local = fh.read(30)
            if len(local) < 30 or not local.startswith(_LOCAL_HEADER):
                continue  # zipfile refuses this entry when it is opened
            name_len = int.from_bytes(local[26:28], "little")
            extra_len = int.from_bytes(local[28:30], "little")
            end = info.header_offset + 30 + name_len + extra_len + info.compress_size
            covered.append((info.header_offset, end + (_DESCRIPTOR_MAX if info.flag_bits & 0x8 else 0)))
        covered.sort()
        pos = scan_from if scan_from is not None else (covered[0][0] if covered else start_dir)
        for begin, end in [*covered, (start_dir, start_dir)]:
            if begin > pos:
                hit = _find_in(fh, pos, min(begin, start_dir))
                if hit is not None:
                    return hit
            pos = max(pos, end)
    return None


def _find_in(fh: IO[bytes], begin: int, end: int) -> int | None:
    fh.seek(begin)
    pos, tail = begin, b""
    while pos < end:
        chunk = fh.read(min(_CHUNK, end - pos))
        if not chunk:
            return None
        hit = (tail + chunk).find(_LOCAL_HEADER)
        if hit >= 0:
            return pos - len(tail) + hit
        tail, pos = chunk[-3:], pos + len(chunk)
    return None


def tar_members(path: Path, into: Path, budget: Budget) -> Iterator[Member]:
    """A tar, plain or gzip/bzip2/xz-compressed (tarfile picks the decompressor)."""
    take = _Extractor(into, budget).take
    try:
        # ignore_zeros: read on past an end-of-archive marker, as `tar -i` does, so a second
        # archive concatenated behind the first is not left unjudged.
        with tarfile.open(path, mode="r:*", ignore_zeros=True) as tf:
            while (info := tf.next()) is not None:
                name = printable(info.name)
                if info.isdir():
                    continue
                budget.count_member(name)
                if not info.isreg():
                    continue  # links, devices, FIFOs: no bytes of their own to judge
                src = tf.extractfile(info)
                if src is None:
                    continue
                with src:
                    yield take(src, info.name)
    except (tarfile.TarError, *_INFLATE_ERRORS) as exc:
        raise ContainerError(f"not a readable tar archive: {exc}") from None


def compressed_members(path: Path, kind: str, into: Path, budget: Budget) -> Iterator[Member]:
    """gzip/bzip2/xz: a compressed tar (`.tar.gz`) or one compressed file (`plate.exr.gz`)."""
    try:
        with _COMPRESSED_STREAMS[kind](path) as src:
            head = src.read(tarfile.BLOCKSIZE)
    except _INFLATE_ERRORS as exc:
        raise ContainerError(f"not a readable {kind} stream: {exc}") from None
    if is_tar(head):
        yield from tar_members(path, into, budget)
    else:
        yield from _stream_member(path, kind, into, budget)


def _stream_member(path: Path, kind: str, into: Path, budget: Budget) -> Iterator[Member]:
    name = path.name
    for suffix in (".gz", ".tgz", ".bz2", ".xz", ".z"):
        if name.lower().endswith(suffix):
            name = name[: -len(suffix)] or name
            break
    budget.count_member(name)
    try:
        with _COMPRESSED_STREAMS[kind](path) as src:
            yield _Extractor(into, budget).take(src, name)
    except _INFLATE_ERRORS as exc:
        raise ContainerError(f"not a readable {kind} stream: {exc}") from None


def is_tar(head: bytes) -> bool:
    """Does this 512-byte block parse as a tar header (checksum included)?"""
    if len(head) < tarfile.BLOCKSIZE:
        return False
    try:
        tarfile.TarInfo.frombuf(head[: tarfile.BLOCKSIZE], "utf-8", "surrogateescape")
    except tarfile.HeaderError:
        return False
    return True


def remove(member: Member) -> None:
    member.path.unlink(missing_ok=True)


def empty_dir(folder: Path) -> None:
    for child in folder.iterdir():
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child, ignore_errors=True)
        else:
            child.unlink(missing_ok=True)
