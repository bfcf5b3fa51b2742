"""Property: the header fast path never says "no metadata" where ExifTool finds any.

Real files (plain ones, which the fast path skips, and tagged corpus files, whose segments
and chunks are the mutations' material) are mutated — bytes inserted, overwritten, cut,
segments and chunks from real tagged files spliced in, fill bytes added — and every mutant
the fast path would skip is read by the real ExifTool, which must report nothing but the
file's structure. Text is fuzzed the same way against ExifTool's own idea of plain text.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from provenance.evidence._exiftool import ExifToolProcess
from provenance.evidence._headers import may_hold_metadata
from provenance.evidence.tags import _NOT_MEDIA
from tests.evidence.conftest import IPTC, exiftool_write, make_jpeg

pytestmark = pytest.mark.usefixtures("exiftool_available")

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus"
# What ExifTool reports of a file that holds nothing but pixels: file facts and geometry.
_STRUCTURE_GROUPS = {"System", "File", "Composite", "JFIF"}
_PNG_STRUCTURE = {"ImageWidth", "ImageHeight", "BitDepth", "ColorType", "Compression", "Filter",
                  "Interlace", "Gamma", "WhitePointX", "WhitePointY", "RedX", "RedY", "GreenX",
                  "GreenY", "BlueX", "BlueY", "SRGBRendering", "PixelsPerUnitX", "PixelsPerUnitY",
                  "PixelUnits", "Palette", "Transparency", "BackgroundColor", "SignificantBits",
                  "PaletteHistogram", "SuggestedPalette"}
FUZZ = settings(max_examples=300, deadline=None, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


def beyond_structure(tags: dict[str, object]) -> dict[str, object]:
    """The tags that are more than file facts and pixel geometry (incl. ExifTool's warnings)."""
    out = {}
    for key, value in tags.items():
        group, _, name = key.partition(":")
        if group in _STRUCTURE_GROUPS or key == "ExifTool:ExifToolVersion":
            continue
        if key == "ExifTool:Error" and value in _NOT_MEDIA:  # "not a format I know": no finding
            continue
        if group == "PNG" and name in _PNG_STRUCTURE:
            continue
        out[key] = value
    return out


@pytest.fixture(scope="module")
def exiftool() -> Iterator[ExifToolProcess]:
    et = ExifToolProcess()
    yield et
    et.close()


@pytest.fixture(scope="module")
def material(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[bytes]]:
    """Plain bases the fast path skips, and pieces cut from real tagged files."""
    d = tmp_path_factory.mktemp("fuzz")
    bases: dict[str, list[bytes]] = {"jpeg": [], "png": []}
    for i, kw in enumerate([{}, {"progressive": True}, {"restart_marker_blocks": 1}]):
        p = d / f"b{i}.jpg"
        Image.new("RGB", (40, 24), (200, 30 * i, 30)).save(p, "JPEG", **kw)
        bases["jpeg"].append(p.read_bytes())
    for mode in ("RGB", "P", "L"):
        p = d / f"b{mode}.png"
        Image.new(mode, (20, 12)).save(p, "PNG")
        bases["png"].append(p.read_bytes())
    tagged = exiftool_write(make_jpeg(d / "t.jpg"),
                            f"-XMP-iptcExt:DigitalSourceType={IPTC}trainedAlgorithmicMedia",
                            "-EXIF:UserComment=Steps: 20, Sampler: Euler a, CFG scale: 7")
    pieces = [*_jpeg_segments(tagged.read_bytes())]
    for f in sorted(CORPUS.glob("*.jpg"))[:6]:
        pieces += _jpeg_segments(f.read_bytes())[:6]
    for f in sorted(CORPUS.glob("*.png"))[:6]:
        pieces += _png_chunks(f.read_bytes())[:8]
    text = b"parameters\x00a cat\nSteps: 20, Sampler: Euler a, CFG scale: 7"
    pieces += [_chunk(b"tEXt", text), _chunk(b"zTXt", b"comment\x00\x00" + zlib.compress(text)),
               _chunk(b"IEND", b""), b"\xff", b"\xff\xff", b"\xff\xd9", b"\xff\xfe\x00\x05abc",
               b"\xff\xe0\x00\x10JFXX\x00\x10\x01\x01\x01\x01\x00\x00", b"\x00" * 4]
    bases["pieces"] = [p for p in pieces if p and len(p) < 70_000]
    return bases


def _jpeg_segments(data: bytes) -> list[bytes]:
    out, pos = [], 2
    while pos + 4 <= len(data) and data[pos] == 0xFF and data[pos + 1] not in (0xDA, 0xD9):
        length = struct.unpack_from(">H", data, pos + 2)[0]
        out.append(data[pos:pos + 2 + length])
        pos += 2 + length
    return out


def _png_chunks(data: bytes) -> list[bytes]:
    out, pos = [], 8
    while pos + 12 <= len(data):
        length = struct.unpack_from(">I", data, pos)[0]
        out.append(data[pos:pos + 12 + length])
        pos += 12 + length
    return out


def _chunk(ctype: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + ctype + body + struct.pack(">I", zlib.crc32(ctype + body))


mutation = st.tuples(
    st.sampled_from(["insert-piece", "insert-bytes", "overwrite", "cut", "append-piece", "truncate",
                     "fill-before-marker"]),
    st.floats(0, 1), st.integers(0, 10_000), st.binary(min_size=1, max_size=12))


def mutate(data: bytes, pieces: list[bytes], ops: list[tuple[str, float, int, bytes]]) -> bytes:
    for kind, where, n, raw in ops:
        at = int(where * len(data))
        piece = pieces[n % len(pieces)]
        if kind == "insert-piece":
            data = data[:at] + piece + data[at:]
        elif kind == "insert-bytes":
            data = data[:at] + raw + data[at:]
        elif kind == "overwrite":
            data = data[:at] + raw + data[at + len(raw):]
        elif kind == "cut":
            data = data[:at] + data[at + 1 + n % 64:]
        elif kind == "append-piece":
            data = data + piece
        elif kind == "truncate":
            data = data[:max(at, 8)]
        else:  # fill bytes before the marker nearest `at`
            marker = data.find(b"\xff", at)
            if marker > 1:
                data = data[:marker] + b"\xff" * (1 + n % 4) + data[marker:]
    return data


@pytest.mark.parametrize("fmt", ["jpeg", "png"])
def test_fast_path_never_hides_what_exiftool_reads(fmt: str, material, exiftool, tmp_path: Path) -> None:
    skipped = 0

    @FUZZ
    @given(base=st.integers(0, 2), ops=st.lists(mutation, min_size=1, max_size=3))
    def check(base: int, ops: list[tuple[str, float, int, bytes]]) -> None:
        nonlocal skipped
        data = mutate(material[fmt][base], material["pieces"], ops)
        f = tmp_path / ("m.jpg" if fmt == "jpeg" else "m.png")
        f.write_bytes(data)
        if may_hold_metadata(f, fmt):
            return
        skipped += 1
        found = beyond_structure(exiftool.read(f, 30))
        assert not found, f"fast path skipped a file where ExifTool reads {found}"

    check()
    assert skipped > 0  # the property was exercised on files the fast path does skip


_TEXT_STARTS = ["", "P2\n# ", "P5 ", "%!PS-Adobe-3.0\n%%Title: ", "BEGIN:VCARD\r\nNOTE:",
                "#?RADIANCE\n#", "G", "d8:announce", "SIMPLE  =                    T", "MM\x00*",
                "Steps: 20, Sampler: Euler a, CFG scale: 7\n", "id=ImageMagick\n", "<x", "{\"a\": 1}",
                "II*\x00", "abcdmoov", "\ufeff", "0\nSECTION\n2\nHEADER\n"]
_NAMES = ["notes", "notes.txt", "notes.csv", "render.pgm", "x.mp3", "x.edl", "x.md5", "x.json",
          "x.ppm", "x.ps", "x.vcf", "x.hdr", "x.mie", "x.dat"]


def test_text_fast_path_never_hides_what_exiftool_reads(exiftool, tmp_path: Path) -> None:
    skipped = 0

    @FUZZ
    @given(start=st.sampled_from(_TEXT_STARTS), name=st.sampled_from(_NAMES),
           body=st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=80))
    def check(start: str, name: str, body: str) -> None:
        nonlocal skipped
        f = tmp_path / name
        f.write_bytes((start + body + "\n1 2 3\n").encode("utf-8"))
        if may_hold_metadata(f, "unknown"):
            return
        skipped += 1
        found = beyond_structure(exiftool.read(f, 30))
        assert not found, f"text fast path skipped {name!r} where ExifTool reads {found}"

    check()
    assert skipped > 0
