"""Issue 10 items 1, 5, 6: legal files the readers used to clear, each read by the real ExifTool
and c2pa-python, each a class (fill bytes, tag names in any group, values in any form)."""

from __future__ import annotations

import struct
import subprocess
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from provenance.evidence import ReaderSettings
from provenance.evidence._headers import may_hold_metadata
from provenance.evidence.metadata import MetadataReader
from provenance.identify import identify
from provenance.model import Classification, Signal
from provenance.pipeline import Inspector
from tests.evidence.conftest import IPTC, Sign, created_action, exiftool_write, make_jpeg, make_png, manifest

pytestmark = pytest.mark.usefixtures("exiftool_available")

AI_DST = f"-XMP-iptcExt:DigitalSourceType={IPTC}trainedAlgorithmicMedia"
A1111 = ("a lighthouse\nSteps: 20, Sampler: Euler a, CFG scale: 7, Seed: 1, Size: 512x512, "
         "Model hash: abc")


@pytest.fixture(scope="module")
def reader() -> Iterator[MetadataReader]:
    r = MetadataReader(ReaderSettings())  # fast path on, as in production
    yield r
    r.close()


@pytest.fixture(scope="module")
def inspector() -> Iterator[Inspector]:
    with Inspector() as ins:
        yield ins


def ai_signals(reader: MetadataReader, path: Path) -> set[Signal]:
    out = reader.read(identify(path))
    return {e.signal for e in out.evidence} & {Signal.AI_GENERATED, Signal.AI_EDITED}


def segments(data: bytes) -> list[tuple[int, int, int]]:
    """(marker code, offset, segment length) of a JPEG's segments before its first scan."""
    out, pos = [], 2
    while data[pos + 1] != 0xDA:
        length = struct.unpack_from(">H", data, pos + 2)[0]
        out.append((data[pos + 1], pos, length))
        pos += 2 + length
    return out


def tagged_jpeg(tmp_path: Path, name: str = "t.jpg") -> Path:
    return exiftool_write(make_jpeg(tmp_path / name), AI_DST)


# -- item 1: the JPEG/PNG header fast path -------------------------------------------------------

def com(length: int) -> bytes:
    return b"\xff\xfe" + struct.pack(">H", length) + b"\x00" * (length - 2)


def test_fill_byte_and_a_com_lined_up_do_not_hide_the_app1(tmp_path: Path, reader) -> None:
    """The reported attack: one 0xFF fill byte before APP1 (legal, T.81 B.1.1.2) made the old
    parser read FF FF as a marker whose "length" (E1 + APP1's high length byte) jumped over
    the APP1 and a COM sized to land on the DQT that follows — "no metadata"."""
    data = tagged_jpeg(tmp_path).read_bytes()
    _code, app1_at, app1_len = next(s for s in segments(data) if s[0] == 0xE1)
    app1 = data[app1_at:app1_at + 2 + app1_len]
    jump = (0xE1 << 8) | app1[2]  # what the old parser took for the "FF FF" segment's length
    # after the fill byte at p: the old parser lands at p + 2 + jump; APP1 occupies p+1..
    com_len = jump - len(app1) + 1 - 2
    assert 2 <= com_len <= 0xFFFF
    crafted = data[:app1_at] + b"\xff" + app1 + com(com_len) + data[app1_at + 2 + app1_len:]
    f = tmp_path / "crafted.jpg"
    f.write_bytes(crafted)
    seen = subprocess.run(["exiftool", "-s3", "-XMP-iptcExt:DigitalSourceType", str(f)],
                          capture_output=True, text=True, check=True).stdout
    assert "trainedAlgorithmicMedia" in seen  # ExifTool reads it: the file is legal
    assert may_hold_metadata(f, "jpeg")
    assert Signal.AI_GENERATED in ai_signals(reader, f)


@pytest.mark.parametrize("fill", [1, 2, 7])
def test_fill_bytes_before_any_marker_go_to_exiftool(tmp_path: Path, reader, fill: int) -> None:
    data = tagged_jpeg(tmp_path).read_bytes()
    _, app1_at, _ = next(s for s in segments(data) if s[0] == 0xE1)
    f = tmp_path / "fill.jpg"
    f.write_bytes(data[:app1_at] + b"\xff" * fill + data[app1_at:])
    assert may_hold_metadata(f, "jpeg")
    assert Signal.AI_GENERATED in ai_signals(reader, f)


def test_plain_jpegs_still_take_the_fast_path(tmp_path: Path) -> None:
    """Strict is not "never": baseline and progressive files with only JFIF and tables skip."""
    from PIL import Image

    plain = make_jpeg(tmp_path / "plain.jpg")
    progressive = tmp_path / "prog.jpg"
    Image.new("RGB", (64, 48), (9, 99, 199)).save(progressive, "JPEG", progressive=True)
    restart = tmp_path / "restart.jpg"
    Image.new("RGB", (64, 48), (9, 99, 199)).save(restart, "JPEG", restart_marker_blocks=1)
    for f in (plain, progressive, restart):
        assert not may_hold_metadata(f, "jpeg"), f.name


def _splice_after_first_scan(data: bytes, segment: bytes) -> bytes:
    first_scan = data.index(b"\xff\xda")
    nxt = data.index(b"\xff\xc4", first_scan + 2)  # the next scan's Huffman table
    return data[:nxt] + segment + data[nxt:]


@pytest.mark.parametrize("variant", ["app1-between-scans", "jfif-thumbnail", "short-length",
                                     "unknown-marker", "after-eoi", "no-eoi", "com"])
def test_anything_unusual_in_a_jpeg_goes_to_exiftool(tmp_path: Path, variant: str) -> None:
    from PIL import Image

    src = tmp_path / "prog.jpg"
    Image.new("RGB", (64, 48), (9, 99, 199)).save(src, "JPEG", progressive=True)
    data = src.read_bytes()
    app0_end = 2 + 2 + struct.unpack_from(">H", data, 4)[0]
    xmp = b"http://ns.adobe.com/xap/1.0/\x00<x:xmpmeta/>"
    app1 = b"\xff\xe1" + struct.pack(">H", len(xmp) + 2) + xmp
    crafted = {
        "app1-between-scans": lambda: _splice_after_first_scan(data, app1),
        "jfif-thumbnail": lambda: (data[:4] + struct.pack(">H", 16 + 3) + data[6:18]
                                   + b"\x01\x01" + b"\x00\x00\x00" + data[app0_end:]),
        "short-length": lambda: data[:app0_end] + b"\xff\xdb\x00\x01" + data[app0_end:],
        "unknown-marker": lambda: data[:app0_end] + b"\xff\x02\x00\x04ab" + data[app0_end:],
        "after-eoi": lambda: data + b"\x00",
        "no-eoi": lambda: data[:-2],
        "com": lambda: data[:app0_end] + com(8) + data[app0_end:],
    }[variant]()
    f = tmp_path / "x.jpg"
    f.write_bytes(crafted)
    assert may_hold_metadata(f, "jpeg")


def png_chunk(ctype: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + ctype + body + struct.pack(">I", zlib.crc32(ctype + body))


@pytest.mark.parametrize("variant", ["iend-with-length", "chunk-past-eof", "text-after-iend"])
def test_anything_unusual_in_a_png_goes_to_exiftool(tmp_path: Path, variant: str) -> None:
    data = make_png(tmp_path / "p.png").read_bytes()
    iend = data.rindex(b"IEND") - 4
    body = data[:iend]
    crafted = {
        "iend-with-length": lambda: body + png_chunk(b"IEND", b"tEXtparameters\x00x"),
        "chunk-past-eof": lambda: body + struct.pack(">I", 1000) + b"IDAT" + b"\x00" * 10,
        "text-after-iend": lambda: data + png_chunk(b"tEXt", b"parameters\x00" + A1111.encode()),
    }[variant]()
    f = tmp_path / "x.png"
    f.write_bytes(crafted)
    assert may_hold_metadata(f, "png")


# -- item 6: reader gaps -----------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["render.pgm", "render", "render.dat"])
def test_ascii_pgm_comment_with_a1111_infotext(tmp_path: Path, inspector: Inspector, name: str) -> None:
    """Text, so the old text fast path skipped it; ExifTool reads it as PGM (its own magic
    number "P2") and reports File:Comment."""
    f = tmp_path / name
    f.write_text("P2\n" + "".join(f"# {line}\n" for line in A1111.splitlines()) + "3 2\n255\n1 2 3\n4 5 6\n")
    v = inspector.inspect(f)
    assert v.classification is Classification.AI_GENERATED, v.to_dict()


def test_png_parameters_after_iend(tmp_path: Path, inspector: Inspector) -> None:
    """ExifTool names a text chunk after IEND Trailer:Parameters; rows match by tag name."""
    data = make_png(tmp_path / "p.png").read_bytes()
    f = tmp_path / "trailer.png"
    f.write_bytes(data + png_chunk(b"tEXt", b"parameters\x00" + A1111.encode()))
    v = inspector.inspect(f)
    assert v.classification is Classification.AI_GENERATED, v.to_dict()
    assert any(e.field == "Trailer:Parameters" for e in v.evidence)


@pytest.mark.parametrize("value", [
    f"  {IPTC}trainedAlgorithmicMedia  ",
    f"{IPTC}trainedAlgorithmicMedia".upper(),
    "HTTPS://cv.iptc.org/newscodes/digitalsourcetype/TrainedAlgorithmicMedia/",
    "\u200btrainedAlgorithmicMedia",
    "ｔｒａｉｎｅｄＡｌｇｏｒｉｔｈｍｉｃＭｅｄｉａ",  # fullwidth: NFKC reads it as the term
])
def test_digital_source_type_in_any_form(tmp_path: Path, reader, value: str) -> None:
    f = exiftool_write(make_jpeg(tmp_path / "d.jpg"), f"-XMP-iptcExt:DigitalSourceType={value}")
    assert ai_signals(reader, f) == {Signal.AI_GENERATED}


def test_composite_source_type_in_upper_case_is_ai_edited(tmp_path: Path, inspector: Inspector) -> None:
    f = exiftool_write(make_jpeg(tmp_path / "c.jpg"),
                       f"-XMP-iptcExt:DigitalSourceType={IPTC.upper()}COMPOSITEWITHTRAINEDALGORITHMICMEDIA")
    assert inspector.inspect(f).classification is Classification.AI_EDITED


def test_capture_type_needs_a_known_form(tmp_path: Path, reader) -> None:
    """Leniency only ever leans towards AI: a capture claim under a foreign base is no capture."""
    f = exiftool_write(make_jpeg(tmp_path / "c.jpg"),
                       "-XMP-iptcExt:DigitalSourceType=http://example.com/digitalCapture")
    out = reader.read(identify(f))
    assert Signal.CAPTURE not in {e.signal for e in out.evidence}


def test_c2pa_source_type_in_upper_case(tmp_path: Path, sign: Sign, inspector: Inspector) -> None:
    """The c2pa reader reads source types through the same vocabulary."""
    src = make_jpeg(tmp_path / "src.jpg")
    dst = sign(src, tmp_path / "signed.jpg",
               manifest(created_action(f"{IPTC}trainedAlgorithmicMedia".upper())), "image/jpeg")
    v = inspector.inspect(dst)
    assert v.classification is Classification.AI_GENERATED, v.to_dict()


# -- item 5: SVG -----------------------------------------------------------------------------------

def test_svg_xmp_packet_source_type(tmp_path: Path, inspector: Inspector) -> None:
    """An xmpmeta packet inside <metadata>: ExifTool 12.57 names the tag
    XMP-iptcExt:SvgMetadataDigitalSourceType. Matched by tag name, in any group."""
    f = tmp_path / "logo.svg"
    f.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n<svg xmlns="http://www.w3.org/2000/svg" '
        'width="4" height="4"><metadata><x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
        'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description '
        f'Iptc4xmpExt:DigitalSourceType="{IPTC}trainedAlgorithmicMedia" '
        'xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/"/></rdf:RDF>'
        '</x:xmpmeta></metadata><rect width="4" height="4"/></svg>\n')
    v = inspector.inspect(f)
    assert v.classification is Classification.AI_GENERATED, v.to_dict()
    assert any(e.field == "XMP-iptcExt:SvgMetadataDigitalSourceType" for e in v.evidence)


# -- IPTC 2025.1 AI properties (issue 14, reading) ---------------------------------------------------

def _xmp_packet(props: str) -> str:
    return ('<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?><x:xmpmeta xmlns:x="adobe:ns:meta/">'
            '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description '
            f'xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/" {props}/>'
            '</rdf:RDF></x:xmpmeta><?xpacket end="w"?>')


def test_iptc_ai_system_used_is_evidence_naming_the_tool(tmp_path: Path, inspector: Inspector) -> None:
    packet = tmp_path / "ai.xmp"
    packet.write_text(_xmp_packet('Iptc4xmpExt:AISystemUsed="Adobe Firefly" '
                                  'Iptc4xmpExt:AISystemVersionUsed="Image 4" '
                                  'Iptc4xmpExt:AIPromptInformation="a cat on a roof"'))
    f = exiftool_write(make_jpeg(tmp_path / "a.jpg"), f"-xmp<={packet}")
    v = inspector.inspect(f)
    assert v.classification is Classification.AI_EDITED, v.to_dict()  # AI involved, kind unsaid
    assert v.generator == "Adobe Firefly Image 4"
    assert any(e.field == "XMP-iptcExt:AIPromptInformation" and e.value == "a cat on a roof"
               for e in v.evidence)


def test_iptc_ai_system_with_generated_source_type_is_ai_generated(tmp_path: Path,
                                                                   inspector: Inspector) -> None:
    packet = tmp_path / "ai.xmp"
    packet.write_text(_xmp_packet(f'Iptc4xmpExt:AISystemUsed="Midjourney" '
                                  f'Iptc4xmpExt:DigitalSourceType="{IPTC}trainedAlgorithmicMedia"'))
    f = exiftool_write(make_jpeg(tmp_path / "a.jpg"), f"-xmp<={packet}")
    v = inspector.inspect(f)
    assert v.classification is Classification.AI_GENERATED
    assert v.generator == "Midjourney"


def test_text_is_never_skipped_when_exiftool_cannot_be_asked(tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """The text path trusts only the installed ExifTool's own tables; without them, no skip."""
    from provenance.evidence import _headers

    f = tmp_path / "notes.txt"
    f.write_text("3fa1c0  plate_v001.exr\n")
    assert not may_hold_metadata(f, "unknown")  # plain text, ExifTool reachable: skipped
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    _headers._exiftool_tables.cache_clear()
    try:
        assert may_hold_metadata(f, "unknown")
    finally:
        monkeypatch.undo()
        _headers._exiftool_tables.cache_clear()
