"""The one format table: every format the sniffer names has a row, and each caller's view
(MIME, XMP-writable, sidecar-only, decoders, frames) is read from it, not kept beside it."""

from __future__ import annotations

import c2pa
import pytest

from provenance import formats
from provenance.identify import sniff_format

# A head that the sniffer names, for every format it knows.
HEADS = {
    "jpeg": b"\xff\xd8\xff\xe0", "png": b"\x89PNG\r\n\x1a\n", "gif": b"GIF89a",
    "webp": b"RIFF\0\0\0\0WEBP", "wav": b"RIFF\0\0\0\0WAVE", "avi": b"RIFF\0\0\0\0AVI ",
    "tiff": b"II*\x00", "mov": b"\0\0\0\x14ftypqt  ", "avif": b"\0\0\0\x14ftypavif",
    "heic": b"\0\0\0\x14ftypheic", "heif": b"\0\0\0\x14ftypmif1", "m4a": b"\0\0\0\x14ftypM4A ",
    "cr3": b"\0\0\0\x14ftypcrx ", "mp4": b"\0\0\0\x14ftypisom", "pdf": b"%PDF-1.7",
    "exr": b"v/1\x01", "dpx": b"SDPX", "mxf": bytes.fromhex("060e2b34020501010d010201"),
    "mkv": b"\x1a\x45\xdf\xa3", "webm": b"\x1a\x45\xdf\xa3webm", "flac": b"fLaC", "mp3": b"ID3",
    "ogg": b"OggS", "aiff": b"FORM\0\0\0\0AIFF", "psd": b"8BPS", "jxl": b"\xff\x0a",
    "svg": b"<svg xmlns='http://www.w3.org/2000/svg'>",
}


@pytest.mark.parametrize("name", sorted(HEADS))
def test_every_sniffed_format_has_a_row(name: str) -> None:
    assert sniff_format(HEADS[name]) == name
    assert name in formats.BY_NAME


def test_every_mime_we_claim_is_one_c2pa_reads() -> None:
    """A format listed with a MIME type is one c2pa-python is asked about; a type c2pa does not
    know would make every read of that format an error instead of "no manifest"."""
    readable = set(c2pa.Reader.get_supported_mime_types())
    unknown = {f.name: f.mime for f in formats.FORMATS if f.mime and f.mime not in readable}
    # ExifTool-only formats are listed for ExifTool's sake; c2pa answers NotSupported for them.
    assert set(unknown) <= {"exr", "dpx", "mxf", "mkv", "webm", "jxl", "heif", "pdf", "gif", "flac",
                            "avi"}, unknown


def test_views_agree_with_the_rows() -> None:
    assert not formats.SIDECAR_FORMATS & formats.XMP_WRITABLE  # sidecar-only means no embedding
    assert formats.MIME_TYPES["jpeg"] == "image/jpeg"
    assert formats.expected_extensions("tiff") == {"tif", "tiff", "dng"}
    assert formats.expected_extensions("no-such-format") is None
    assert {"exr", "dpx", "jpg", "tif", "cin"} <= formats.FRAME_EXTENSIONS
    assert {"jpeg", "png", "tiff", "webp", "gif"} <= formats.PILLOW_FORMATS


def test_callers_read_the_table() -> None:
    """No caller keeps a copy: the names they use are the table's own objects."""
    from provenance import identify, sequences, tagging
    from provenance.report import thumbs
    from provenance.tagging import essence

    assert identify.MIME_TYPES is formats.MIME_TYPES
    assert tagging.SIDECAR_FORMATS is formats.SIDECAR_FORMATS
    assert tagging.XMP_WRITABLE is formats.XMP_WRITABLE
    assert essence.PILLOW_FORMATS is thumbs.PILLOW_FORMATS is formats.PILLOW_FORMATS
    assert sequences.FRAME_EXTENSIONS is formats.FRAME_EXTENSIONS
