"""Refuse, before ExifTool sees it, a file whose compressed metadata inflates past a bound.

ExifTool inflates every compressed PNG text and profile chunk whole, in memory, and returns
the text: a 1 MB PNG can hold a zTXt that inflates to 1 GiB. Where the container says
plainly what is compressed (PNG: zTXt, compressed iTXt, iCCP), this module inflates it
itself, incrementally, and stops at INFLATE_LIMIT: the file is then not read, and the reason
names the chunk. Every other format is bounded by the ExifTool process's own memory and
output limits (`_exiftool`).
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path
from typing import BinaryIO

from provenance._os import open_regular

INFLATE_LIMIT = 32 * 1024 * 1024  # all compressed metadata of one file, inflated
_STEP = 1 << 20
_MAX_CHUNKS = 100_000
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def inflation_problem(path: Path, fmt: str, limit: int = INFLATE_LIMIT) -> str | None:
    """Why this file must not be handed to ExifTool, or None. Never raises for the file's sake."""
    if fmt != "png":
        return None
    try:
        with open_regular(path) as fh:
            return _png(fh, limit)
    except (OSError, struct.error):
        return None  # unreadable or damaged: ExifTool reports that itself


def _png(fh: BinaryIO, limit: int) -> str | None:
    if fh.read(8) != _PNG_SIGNATURE:
        return None
    budget = limit
    for _ in range(_MAX_CHUNKS):
        header = fh.read(8)
        if len(header) < 8:
            return None
        length, ctype = struct.unpack(">I4s", header)
        if ctype not in (b"zTXt", b"iTXt", b"iCCP"):
            fh.seek(length + 4, 1)
            continue
        if length > limit:
            return _reason(ctype, b"", f"holds {length >> 20} MiB of compressed data", limit)
        body = fh.read(length)
        fh.seek(4, 1)  # CRC
        keyword, stream = _compressed_part(ctype, body)
        if stream is None:
            continue
        used = _inflated_size(stream, budget + 1)
        if used > budget:
            return _reason(ctype, keyword, "inflates past the limit", limit)
        budget -= used
    return None


def _compressed_part(ctype: bytes, body: bytes) -> tuple[bytes, bytes | None]:
    keyword, _, rest = body.partition(b"\x00")
    if ctype in (b"zTXt", b"iCCP"):
        return keyword, rest[1:]  # compression method byte, then the zlib stream
    # iTXt: compression flag, method, language tag \0, translated keyword \0, text
    if len(rest) < 2 or rest[0] != 1:
        return keyword, None
    _lang, _, rest = rest[2:].partition(b"\x00")
    _translated, _, text = rest.partition(b"\x00")
    return keyword, text


def _inflated_size(stream: bytes, cap: int) -> int:
    """How many bytes `stream` inflates to, counting no further than `cap`."""
    inflater = zlib.decompressobj()
    total = 0
    pending = stream
    try:
        while pending and total < cap:
            total += len(inflater.decompress(pending, _STEP))
            pending = inflater.unconsumed_tail
        if total < cap:
            total += len(inflater.flush())
    except zlib.error:
        return total  # a broken stream: ExifTool warns "Error inflating", which is ours to report
    return total


def _reason(ctype: bytes, keyword: bytes, what: str, limit: int) -> str:
    name = keyword.decode("latin-1", "replace")[:79]
    return (f"PNG {ctype.decode('ascii')} chunk {name!r} {what} ({limit >> 20} MiB of "
            "decompressed metadata per file): a decompression bomb or a damaged file; not read")
