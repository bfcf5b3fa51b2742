"""Header-only check: can this file hold any metadata block at all?

Starting ExifTool's full read costs more than everything else we do for a small image, so a
file whose whole structure we have parsed, strictly, and found to hold nothing but pixels
is not handed to ExifTool. The rule is one-sided: the fast path may only *skip* what it
has fully understood; anything unusual answers "maybe" and ExifTool reads the file.

- JPEG: every byte is accounted for: SOI, then only APP0/JFIF (plain, no thumbnail), DQT,
  DHT, DRI and SOFn segments, each inside the file; the entropy-coded data of every scan
  holds only stuffed bytes, restart markers and the next scan's tables; the file ends at
  EOI. Fill bytes (legal before any marker, ITU T.81 B.1.1.2), COM, APPn, unknown markers,
  a short length or anything after EOI: maybe.
- PNG: the signature, IHDR first (once, 13 bytes), then only pixel/colour chunks, each
  inside the file, then a zero-length IEND that ends the file.
- Small plain text (checksums, notes, EDLs in a delivery package): ExifTool reports only its
  encoding and line count *if it reads the file as text*. It first tries the type the file
  name's extension names, then every type whose magic number matches the first bytes (an
  ASCII PGM "P2", PostScript, XMP, JSON, VCard, Radiance...). So plain text is skipped only
  when the installed ExifTool itself would take it for text: its extension table and magic
  numbers are read from ExifTool once per process, and when that fails nothing is skipped.
- Anything else we cannot name (a binary of no format we sniff): ExifTool reports nothing
  but "Unknown file type" when it cannot type the file either. Its own procedure
  (Image::ExifTool::ExtractInfo) is followed: the type the file name's extension names is
  tried first, then every type whose magic number matches the first 1024 bytes, then the
  types that have no magic number and look for themselves (an ISO 9660 volume descriptor,
  a Photo CD header, a PFM header, MP3: an ID3 tag at either end, a Lyrics3 trailer, an
  MPEG frame sync near the start), then a JPEG or TIFF header anywhere in the first 1024
  bytes. The file is skipped only when each of those fails, with the installed ExifTool's
  tables, and only when its list of magic-less types is the one modelled here (another
  version's new one: nothing is skipped). A file that starts with one byte repeated is not
  skipped: ExifTool reports it as damaged ("binary zeros"), an error that must stay.
"""

from __future__ import annotations

import os
import re
import shutil
import struct
import subprocess
from functools import lru_cache
from pathlib import Path
from typing import BinaryIO, NamedTuple

from provenance._os import open_regular
from provenance.evidence._exiftool import _needs_link

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# PNG chunks that carry only pixels or colour information.
_PNG_PLAIN = frozenset({b"IHDR", b"PLTE", b"IDAT", b"tRNS", b"gAMA", b"cHRM", b"sRGB",
                        b"sBIT", b"bKGD", b"pHYs", b"hIST", b"sPLT"})
_MAX_CHUNKS = 10_000
_PNG_MAX_LENGTH = 2**31 - 1  # PNG 1.2 §5.3

# JPEG markers whose segments hold only coding tables or frame geometry.
_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
_JPEG_TABLES = frozenset({0xC4, 0xDB, 0xDD}) | _SOF  # DHT, DQT, DRI, SOFn
# The strict parse scans every scan's entropy-coded data: on an 11 MB JPEG that costs about
# what ExifTool's own read does (29 ms vs 22 ms, measured), so larger files go to ExifTool.
_JPEG_MAX_BYTES = 4 * 1024 * 1024
# In entropy-coded data 0xFF is followed by 0x00 (stuffing) or a marker; these need no look.
_SCAN_MARKER = re.compile(rb"\xff(?![\x00\xd0-\xd7])")

_TEXT_LIMIT = 64 * 1024
_MAGIC_HEAD = 1024  # ExifTool tests magic numbers against the first 1024 bytes
# Bytes that open a tag-carrying text format whatever ExifTool's tables say (belt and braces).
_TEXT_MARKERS = (b"<", b"{", b"[", b"%!", b"%%")


def may_hold_metadata(path: Path, fmt: str, whole: bytes | None = None) -> bool:
    """`whole`: all of the file's bytes, when the caller holds them (`Asset.whole`: the bytes
    it hashed); then the file is not opened again."""
    try:
        if whole is not None and fmt == "unknown":
            return _unknown_may(_Bytes(whole), path)
        with open_regular(path) as fh:
            if fmt == "jpeg":
                return _jpeg_may(fh, os.fstat(fh.fileno()).st_size)
            if fmt == "png":
                return _png_may(fh, os.fstat(fh.fileno()).st_size)
            if fmt == "unknown":
                return _unknown_may(_File(fh), path)
    except (OSError, struct.error, ValueError):
        return True
    return True


class _File:
    """Reads from an open file (`_Bytes`: from bytes already read)."""

    def __init__(self, fh: BinaryIO) -> None:
        self._fh = fh
        self.size = os.fstat(fh.fileno()).st_size

    def read(self, n: int, offset: int) -> bytes:
        return os.pread(self._fh.fileno(), n, offset)


class _Bytes:
    def __init__(self, data: bytes) -> None:
        self._data = data
        self.size = len(data)

    def read(self, n: int, offset: int) -> bytes:
        return self._data[offset:offset + n]


def _unknown_may(src: _File | _Bytes, path: Path) -> bool:
    head = src.read(_MAGIC_HEAD, 0)
    if b"\x00" not in head:  # may be text: that rule needs all of it (≤ 64 KiB)
        head = src.read(_TEXT_LIMIT + 1, 0)
        if not _text_may(head, path.name):
            return False
    return not _cannot_type(src, head, path)


# -- JPEG -----------------------------------------------------------------------------------

def _jpeg_may(fh: BinaryIO, size: int) -> bool:
    if size > _JPEG_MAX_BYTES:
        return True
    data = fh.read(size + 1)
    if len(data) != size or not data.startswith(b"\xff\xd8"):
        return True
    pos = _jpeg_segments(data, 2)
    while pos is not None:  # pos: first byte of a scan's entropy-coded data
        m = _SCAN_MARKER.search(data, pos)
        if m is None:
            return True  # no EOI
        at = m.start()
        code = data[at + 1] if at + 1 < len(data) else None
        if code == 0xD9:
            return at + 2 != len(data)  # EOI must end the file: trailers are metadata too
        if code is None or code not in _JPEG_TABLES | {0xDA}:
            return True  # fill bytes, APPn, COM, unknown markers: ExifTool decides
        pos = _jpeg_segments(data, at)
    return True


def _jpeg_segments(data: bytes, pos: int) -> int | None:
    """Parse segments from `pos` up to and including an SOS header; the offset after it, or
    None when anything is not plainly a coding table, frame header or plain JFIF."""
    while True:
        if pos + 4 > len(data) or data[pos] != 0xFF:
            return None
        code = data[pos + 1]
        length = struct.unpack_from(">H", data, pos + 2)[0]
        end = pos + 2 + length
        if length < 2 or end > len(data):
            return None
        if code == 0xDA:
            return end
        if code == 0xE0:
            if not _plain_jfif(data[pos + 4:end]):
                return None
        elif code not in _JPEG_TABLES:
            return None
        pos = end


def _plain_jfif(body: bytes) -> bool:
    # "JFIF\0", version (2), units (1), densities (4), thumbnail 0x0: exactly 14 bytes.
    return len(body) == 14 and body.startswith(b"JFIF\x00") and body[12:14] == b"\x00\x00"


# -- PNG ------------------------------------------------------------------------------------

def _png_may(fh: BinaryIO, size: int) -> bool:
    if fh.read(8) != _PNG_SIGNATURE:
        return True
    pos = 8
    for index in range(_MAX_CHUNKS):
        header = fh.read(8)
        if len(header) < 8:
            return True  # truncated: let ExifTool report it
        length, ctype = struct.unpack(">I4s", header)
        end = pos + 12 + length
        if length > _PNG_MAX_LENGTH or end > size:
            return True
        if (index == 0) != (ctype == b"IHDR") or (ctype == b"IHDR" and length != 13):
            return True  # IHDR first, once, of its fixed size
        if ctype == b"IEND":
            return length != 0 or end != size  # anything after IEND is a trailer
        if ctype not in _PNG_PLAIN:
            return True
        fh.seek(end)
        pos = end
    return True


# -- plain text -----------------------------------------------------------------------------

def _text_may(head: bytes, name: str) -> bool:
    if not head or len(head) > _TEXT_LIMIT or b"\x00" in head:
        return True  # empty, large or binary: not plain text we can rule out
    try:
        head.decode("utf-8")
    except UnicodeDecodeError:
        return True
    # The first byte first: `in` finds one byte with memchr, two far slower (8 µs each on
    # 6 KB), so "%!" and "%%" are looked for only where a "%" is.
    if any(marker[:1] in head and marker in head for marker in _TEXT_MARKERS):
        return True
    return not exiftool_reads_as_text(head, name)


def exiftool_reads_as_text(head: bytes, name: str) -> bool:
    """Whether the installed ExifTool would take a file so named, starting so, for plain text."""
    tables = _exiftool_tables()
    if tables is None:
        return False
    text, magic, by_extension = tables.text, tables.magic, tables.by_extension
    if not text.search(head):
        return False  # bytes its text reader calls a format error (control characters...)
    ext = name.rpartition(".")[2].upper() if "." in name else ""
    own = by_extension.get(ext) if ext else None
    if own == "TXT":
        return True  # tried first, and its magic matches
    if own is not None:
        return False  # the extension's own type is tried first (MP3 even without magic)
    start = head[:_MAGIC_HEAD]
    return not any(rx is None or rx.search(start) for rx in magic)


# -- files ExifTool cannot type ---------------------------------------------------------------

# The magic-less types modelled below (ExifTool 12.x). A version that tries another one on
# every file is not second-guessed: nothing is skipped.
_MAGICLESS_MODELLED = frozenset({"ISO", "MP3", "PCD", "PFM2"})
_TEST_LEN = 1024  # Image::ExifTool::testLen; another value: nothing is skipped
_LAST_DITCH = re.compile(rb"\xff\xd8\xff|MM\x00\x2a|II\x2a\x00")  # "JPEG/TIFF after a header"
_MPEG_SCAN = 256  # ProcessMP3 looks this far for a frame sync in a file not named .mp3
_MPEG_START = re.compile(rb"\x00\x00\x01[\xb3\xc0]")  # MPEG video / audio stream start codes
_FRAME_SYNC = re.compile(rb"\xff[\xe0-\xff]")
_ISO_DESCRIPTOR = re.compile(rb"[\x00-\x03\xff]CD001")
_ID3_TRAILER = 128


def exiftool_cannot_type(fh: BinaryIO, head: bytes, path: Path) -> bool:
    """Whether the installed ExifTool would answer "Unknown file type" for this file, and
    nothing else: no type by its extension or by any magic number, none of the magic-less
    types accepts it, and no JPEG/TIFF header in its first bytes. False when in doubt.
    `head`: the file's first bytes (at least 1024, or all of it)."""
    return _cannot_type(_File(fh), head, path)


def _cannot_type(src: _File | _Bytes, head: bytes, path: Path) -> bool:
    tables = _exiftool_tables()
    if tables is None or not tables.magicless <= _MAGICLESS_MODELLED or tables.test_len != _TEST_LEN:
        return False
    full = os.path.abspath(path)
    if _needs_link(os.fsencode(full)):
        return False  # ExifTool would read it under another name (a link), typed by that
    if any(name in tables.by_extension for name in _names_exiftool_looks_up(full)):
        return False
    start = head[:_TEST_LEN]
    if not start:
        return False  # "File is empty"
    if len(start) >= 16 and start.count(start[:1]) == len(start):
        return False  # "First N kB of file is binary zeros": an error, which must be reported
    if tables.text.search(start) or any(rx is None or rx.search(start) for rx in tables.magic):
        return False
    if _LAST_DITCH.search(start):
        return False
    return not _magicless_accepts(src, head)


def _names_exiftool_looks_up(full: str) -> set[str]:
    """What GetFileType may look the file up by: the extension of the path it is given (TIF
    read as TIFF), or without one the whole name upper-cased (every spelling, to be safe)."""
    name = os.path.basename(full)
    out = {full.upper(), name.upper()}
    for whole in (full, name):
        if "." in whole:
            ext = whole.rpartition(".")[2].upper()
            out.add("TIFF" if ext == "TIF" else ext)
    return out


def _magicless_accepts(src: _File | _Bytes, head: bytes) -> bool:
    """Whether ISO, PCD, PFM2 or MP3 (ID3, Lyrics3, MPEG frames) might take the file."""
    size = src.size
    if _ISO_DESCRIPTOR.match(src.read(6, 32768)):  # ProcessISO: a volume descriptor
        return True
    if src.read(7, 2048) == b"PCD_IPI":  # ProcessPCD
        return True
    if head[:3] in (b"PF\n", b"Pf\n"):  # ProcessPFM2: a Portable FloatMap header
        return True
    # ProcessMP3 → ProcessID3: an ID3v2 header, an ID3v1 trailer, a Lyrics3 trailer.
    tail = src.read(min(size, 512), max(size - 512, 0))
    if head.startswith(b"ID3") or (size >= _ID3_TRAILER and tail[-_ID3_TRAILER:].startswith(b"TAG")):
        return True
    if b"LYRICS" in tail[-16:]:
        return True
    return _mpeg_may(head[:_MPEG_SCAN])


def _mpeg_may(scan: bytes) -> bool:
    """ProcessMP3 on a file not named .mp3: MPEG start codes send it to the A/V parser;
    otherwise the first frame sync decides (ParseMPEGAudio gives up at the first header
    that is not valid layer 3 audio)."""
    if _MPEG_START.search(scan):
        return True
    sync = _FRAME_SYNC.search(scan)
    if sync is None or sync.start() + 4 > len(scan):
        return False
    word = int.from_bytes(scan[sync.start():sync.start() + 4], "big")
    invalid = ((word & 0x180000) == 0x080000  # reserved version
               or (word & 0x060000) != 0x020000  # not layer 3
               or (word & 0x00F000) in (0x000000, 0x00F000)  # free or bad bitrate
               or (word & 0x000C00) == 0x000C00  # reserved sampling rate
               or (word & 0x000003) == 0x000002)  # reserved emphasis
    return not invalid


class ExifToolTables(NamedTuple):
    """What the installed Image::ExifTool decides a file's type by."""

    text: re.Pattern[bytes]  # the TXT magic number
    magic: tuple[re.Pattern[bytes] | None, ...]  # every other one; None where Python cannot compile Perl's
    by_extension: dict[str, str]  # extension (upper case) → file type
    magicless: frozenset[str]  # types tried on every file that have no magic number
    test_len: int  # how many leading bytes the magic numbers are tested against


@lru_cache(maxsize=1)
def _exiftool_tables() -> ExifToolTables | None:
    """The installed Image::ExifTool's typing tables; None when it cannot be asked."""
    script = r"""
        use Image::ExifTool;
        my %m = %Image::ExifTool::magicNumber;
        for my $t (sort keys %m) { print "M $t ", unpack("H*", $m{$t}), "\n"; }
        my %l = %Image::ExifTool::fileTypeLookup;
        for my $e (sort keys %l) {
            my $v = $l{$e}; my $n = 0;
            while (defined $v and not ref $v and exists $l{$v} and $n++ < 8) { $v = $l{$v}; }
            $v = $v->[0] if ref $v eq 'ARRAY';
            $v = $v->[0] if ref $v eq 'ARRAY';
            print "E $e ", unpack("H*", defined $v ? $v : ''), "\n";
        }
        for my $t (@Image::ExifTool::fileTypes) {
            print "N $t ", unpack("H*", $t), "\n" unless $m{$t};
        }
        print "L len ", unpack("H*", $Image::ExifTool::testLen), "\n";
    """
    exiftool = shutil.which("exiftool")
    if exiftool is None:
        return None
    # The library the exiftool on PATH loads: a self-contained install keeps it in ./lib.
    own_lib = Path(os.path.realpath(exiftool)).parent / "lib"
    try:
        done = subprocess.run(["perl", f"-I{own_lib}", "-e", script], capture_output=True,
                              timeout=30, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    if done.returncode != 0:
        return None
    magic: list[re.Pattern[bytes] | None] = []
    text: re.Pattern[bytes] | None = None
    by_extension: dict[str, str] = {}
    magicless: set[str] = set()
    test_len = 0
    for record in done.stdout.splitlines():
        parts = record.split(b" ")
        if len(parts) != 3:
            continue
        kind, key, value = parts[0], parts[1], bytes.fromhex(parts[2].decode("ascii"))
        if kind == b"M" and key == b"TXT":
            text = _perl_regex(value)
        elif kind == b"M":
            magic.append(_perl_regex(value))
        elif kind == b"E":
            by_extension[key.decode("latin-1").upper()] = value.decode("latin-1")
        elif kind == b"N":
            magicless.add(key.decode("latin-1"))
        elif kind == b"L" and value.isdigit():
            test_len = int(value)
    if not magic or text is None or "TXT" not in by_extension:
        return None
    return ExifToolTables(text, tuple(magic), by_extension, frozenset(magicless), test_len)


def _perl_regex(pattern: bytes) -> re.Pattern[bytes] | None:
    """ExifTool tests `/^$magic/s`: compiled as `^` + the pattern, to be used with `search`
    (a top-level `|` leaves the later alternatives unanchored there too: JXL's matches
    anywhere in the first 1024 bytes). Python reads Perl's syntax alike except for an inline
    (?i) that is not at the start (HTML's). None = cannot tell."""
    flags = re.DOTALL
    if b"(?i)" in pattern:
        pattern = pattern.replace(b"(?i)", b"")
        flags |= re.IGNORECASE
    try:
        return re.compile(b"^" + pattern, flags)
    except re.error:
        return None
