"""Header-only check: can this file hold any metadata block at all?

Starting ExifTool's full read costs more than everything else we do for a small image. For
JPEG and PNG the container structure alone says whether a metadata block exists: a JPEG with
only APP0/JFIF before its scan data and nothing after EOI, or a PNG with only image chunks,
has nothing for ExifTool to find. The same holds for small plain text (checksums, notes, EDLs
in a delivery package): ExifTool reports only its encoding and line count, unless the text is
markup (XML/XMP/HTML/SVG), JSON or PostScript, which can carry tags. Anything unusual (other
formats, odd structure, trailing bytes) answers "maybe", and the full read runs: the fast path
may only skip, never decide.
"""

from __future__ import annotations

import struct
from pathlib import Path

from provenance._os import open_regular

# PNG chunks that carry only pixels or colour information.
_PNG_PLAIN = frozenset({b"IHDR", b"PLTE", b"IDAT", b"IEND", b"tRNS", b"gAMA", b"cHRM", b"sRGB",
                        b"sBIT", b"bKGD", b"pHYs", b"hIST", b"sPLT"})
_MAX_CHUNKS = 10_000
_TEXT_LIMIT = 64 * 1024
# Bytes that can open a tag-carrying text format ExifTool reads: markup, JSON, PostScript DSC.
_TEXT_MARKERS = (b"<", b"{", b"[", b"%!", b"%%")


def may_hold_metadata(path: Path, fmt: str) -> bool:
    try:
        with open_regular(path) as fh:
            if fmt == "jpeg":
                return _jpeg_may(fh)
            if fmt == "png":
                return _png_may(fh)
            if fmt == "unknown":
                return _text_may(fh.read(_TEXT_LIMIT + 1))
    except (OSError, struct.error, ValueError):
        return True
    return True


def _jpeg_may(fh: object) -> bool:
    read = fh.read  # type: ignore[attr-defined]
    if read(2) != b"\xff\xd8":
        return True
    while True:
        marker = read(2)
        if len(marker) < 2 or marker[0] != 0xFF:
            return True
        code = marker[1]
        if code == 0xDA:  # start of scan: headers are over
            break
        if 0xD0 <= code <= 0xD7 or code == 0x01:
            continue
        length = struct.unpack(">H", read(2))[0]
        if code == 0xFE or 0xE1 <= code <= 0xEF:  # COM, APP1..APP15 (EXIF, XMP, JUMBF, ...)
            return True
        if code == 0xE0:
            body = read(length - 2)
            if not body.startswith(b"JFIF\x00"):
                return True
            continue
        fh.seek(length - 2, 1)  # type: ignore[attr-defined]
    # Metadata can also trail the image; require the file to end right at EOI.
    fh.seek(-2, 2)  # type: ignore[attr-defined]
    return bool(read(2) != b"\xff\xd9")


def _png_may(fh: object) -> bool:
    read = fh.read  # type: ignore[attr-defined]
    if read(8) != b"\x89PNG\r\n\x1a\n":
        return True
    for _ in range(_MAX_CHUNKS):
        header = read(8)
        if len(header) < 8:
            return True  # truncated: let ExifTool report it
        length, ctype = struct.unpack(">I4s", header)
        if ctype not in _PNG_PLAIN:
            return True
        fh.seek(length + 4, 1)  # type: ignore[attr-defined]
        if ctype == b"IEND":
            return bool(read(1))  # anything after IEND's CRC is unusual
    return True


def _text_may(head: bytes) -> bool:
    if not head or len(head) > _TEXT_LIMIT or b"\x00" in head:
        return True  # empty, large or binary: not plain text we can rule out
    try:
        head.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return any(marker in head for marker in _TEXT_MARKERS)
