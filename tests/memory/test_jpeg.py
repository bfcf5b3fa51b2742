"""A JPEG's essence comes from its coded data, and its picture from a draft (scaled IDCT) decode."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image

from provenance.errors import AssetError
from provenance.fingerprint import display, fingerprint, still
from provenance.fingerprint.jpeg import coded_essence
from tests.memory.conftest import fp

pytestmark = pytest.mark.usefixtures("media_tools")

TAGGED = "d02_Firefly_tabby_cat.jpg"  # Adobe Firefly: XMP, C2PA JUMBF in APP11


def _exiftool(*args: str) -> None:
    subprocess.run(["exiftool", "-q", "-q", "-overwrite_original", *args], check=True)


def test_metadata_written_or_stripped_keeps_a_jpegs_essence(corpus_dir: Path, tmp_path: Path) -> None:
    src = corpus_dir / TAGGED
    stripped, retagged = tmp_path / "stripped.jpg", tmp_path / "retagged.jpg"
    shutil.copyfile(src, stripped)
    shutil.copyfile(src, retagged)
    _exiftool("-all=", str(stripped))
    _exiftool("-XMP-dc:Title=graded", "-Comment=a COM segment", "-EXIF:Artist=someone", str(retagged))
    a, b, c = fp(src), fp(stripped), fp(retagged)
    assert len({a.sha256, b.sha256, c.sha256}) == 3
    assert a.essence is not None and a.essence == b.essence == c.essence
    assert a.frames == b.frames == c.frames


def test_a_re_encoded_jpeg_is_another_essence(corpus_dir: Path, tmp_path: Path) -> None:
    with Image.open(corpus_dir / TAGGED) as img:
        img.save(tmp_path / "q95.jpg", quality=95)
    assert fp(corpus_dir / TAGGED).essence != fp(tmp_path / "q95.jpg").essence


def test_the_canonical_form_is_the_coded_segments_only(corpus_dir: Path) -> None:
    data = (corpus_dir / TAGGED).read_bytes()
    essence = coded_essence(data)
    # A COM segment spliced in after SOI and bytes appended after EOI are not the picture ...
    assert coded_essence(data[:2] + b"\xff\xfe\x00\x06note" + data[2:] + b"trailer") == essence
    # ... but one changed byte of entropy-coded data is.
    scan = data.index(b"\xff\xda")
    middle = scan + (len(data) - scan) // 2
    flipped = data[:middle] + bytes([data[middle] ^ 0x01 if data[middle] not in (0xFF, 0xFE) else 0x11])
    assert coded_essence(flipped + data[middle + 1:]) not in (None, essence)
    # Not a whole JPEG: no essence here (the decode then fails or hashes pixels).
    assert coded_essence(data[: len(data) // 2]) is None
    assert coded_essence(b"\x89PNG") is None


def test_a_truncated_jpeg_names_the_file(corpus_dir: Path, tmp_path: Path) -> None:
    bad = tmp_path / "cut.jpg"
    bad.write_bytes((corpus_dir / TAGGED).read_bytes()[:600])
    with pytest.raises(AssetError, match=r"cut\.jpg"):
        fingerprint(bad, "jpeg", "0" * 64)


def test_a_large_jpeg_is_never_decoded_at_full_size(corpus_dir: Path, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    src = tmp_path / "uhd.jpg"
    with Image.open(corpus_dir / TAGGED) as img:
        img.convert("RGB").resize((3840, 2160)).save(src, quality=90)
    loaded: list[tuple[int, int]] = []
    real_load = Image.Image.load

    def counting_load(self: Image.Image) -> object:
        out = real_load(self)
        loaded.append(self.size)
        return out

    monkeypatch.setattr(Image.Image, "load", counting_load)
    picture = display.decode(src, "jpeg")
    assert picture.essence and (picture.width, picture.height) == (3840, 2160)
    assert loaded and max(max(size) for size in loaded) <= 2 * display.MAX_SIDE


def test_the_draft_picture_hashes_as_the_full_decode(corpus_dir: Path, tmp_path: Path) -> None:
    # What memory compares: a JPEG original (draft decode) with a lossless PNG of its pixels
    # (full decode). Measured on the corpus JPEGs: at most 10 of 256 bits apart.
    for name in (TAGGED, "d21_cloudscape-ACA-Cr.jpeg", "d30_E-sig-CA.jpg"):
        png = tmp_path / f"{name}.png"
        with Image.open(corpus_dir / name) as img:
            img.save(png)
        a, b = fp(corpus_dir / name).frames[0].hashes, fp(png).frames[0].hashes
        assert still.distance(a[0], b[0]) <= 12, name
