from __future__ import annotations

import hashlib
import os
import socket
from collections.abc import Callable
from pathlib import Path

import pytest

from provenance.errors import AssetError
from provenance.identify import identify, sha256_file, sniff_format

EXPECTED_FORMATS = {
    "d01_ChatGPT_Image.png": "png",
    "d02_Firefly_tabby_cat.jpg": "jpeg",
    "d03_DALL-E_cloud_surfing_puppy.webp": "webp",
    "d06_sorastats_sora_standard.mp4": "mp4",
    "d27_t6.m4a": "m4a",
    "d28_trustnxt-icon-signed-v2-bmff.heic": "heic",
    "d31_signed_test.pdf": "pdf",
    "d32_signed_test.wav": "wav",
    "d36_sample1.mp3": "mp3",
    "d37_cards.avif": "avif",
    "d38_cards_trusted.gif": "gif",
}


@pytest.mark.parametrize(("name", "fmt"), sorted(EXPECTED_FORMATS.items()))
def test_format_is_sniffed_from_content(corpus_dir: Path, name: str, fmt: str) -> None:
    assert identify(corpus_dir / name).format == fmt


def test_extension_does_not_decide_format(corpus_dir: Path, tmp_path: Path) -> None:
    renamed = tmp_path / "notes.txt"
    renamed.write_bytes((corpus_dir / "d10_sd-webui.png").read_bytes())
    assert identify(renamed).format == "png"


@pytest.mark.parametrize(
    ("head", "fmt"),
    [
        (b"v/1\x01" + bytes(60), "exr"),
        (b"SDPX" + bytes(60), "dpx"),
        (bytes.fromhex("060e2b34020501010d01020101020400"), "mxf"),
        (b"\x00\x00\x00\x14ftypqt  \x00\x00\x02\x00qt  ", "mov"),
        (b"hello world", "unknown"),
    ],
)
def test_sniff_pro_formats(head: bytes, fmt: str) -> None:
    assert sniff_format(head) == fmt


def test_hash_matches_and_known_hash_skips_reading(tmp_path: Path) -> None:
    f = tmp_path / "a.bin"
    f.write_bytes(b"x" * 10_000)
    asset = identify(f)
    assert asset.sha256 == sha256_file(f)
    cached = identify(f, known_hash=lambda key: "cached" if key == asset.stat_key else None)
    assert cached.sha256 == "cached"


def test_an_empty_file_is_identified_like_any_file(tmp_path: Path) -> None:
    f = tmp_path / "empty.jpg"
    f.touch()
    asset = identify(f)
    assert (asset.format, asset.size, asset.sha256) == ("unknown", 0, hashlib.sha256(b"").hexdigest())


@pytest.mark.parametrize("make", [os.mkfifo, lambda p: socket.socket(socket.AF_UNIX).bind(str(p))])
def test_a_fifo_or_socket_is_refused_without_blocking(tmp_path: Path, make: Callable[[Path], None]) -> None:
    f = tmp_path / "clip.mov"
    make(f)
    with pytest.raises(AssetError, match=r"not a regular file \(a (FIFO|socket)\)") as err:
        identify(f)
    assert err.value.path == str(f)
    with pytest.raises(OSError, match="not a regular file"):
        sha256_file(f)


def test_symlink_loop_is_an_error(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    os.symlink(b, a)
    os.symlink(a, b)
    with pytest.raises(AssetError, match="loop"):
        identify(a)


def test_symlink_reports_its_target(tmp_path: Path) -> None:
    target = tmp_path / "real.bin"
    target.write_bytes(b"data")
    link = tmp_path / "link.bin"
    link.symlink_to(target)
    asset = identify(link)
    assert asset.link_target == target.resolve()
    assert asset.sha256 == sha256_file(target)


@pytest.mark.parametrize("size", [0, 1, 64 * 1024, 64 * 1024 + 1, 64 * 1024 + 2, 3 << 20])
def test_the_prefix_is_the_bytes_hashed_in_one_pass(tmp_path: Path, size: int) -> None:
    """The first bytes ride on the Asset (the readers' header checks use them); the hash is
    still of every byte, read once."""
    data = os.urandom(size)
    f = tmp_path / "f.bin"
    f.write_bytes(data)
    asset = identify(f)
    assert asset.sha256 == hashlib.sha256(data).hexdigest()
    assert asset.prefix == data[:64 * 1024 + 1]
    assert asset.whole == (data if size <= 64 * 1024 + 1 else None)


def test_a_small_file_is_opened_once_for_every_reader(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """Identify, the metadata fast path and the containers check: one open of a small file
    that no reader needs to read (they look at the bytes identify hashed)."""
    from provenance.pipeline import Inspector

    note = tmp_path / "checksums.md5"
    note.write_text("3fa1c0  plate_v001.exr\n")
    blob = tmp_path / "blob"
    blob.write_bytes(bytes(range(1, 256)) * 40)  # a binary ExifTool cannot type
    opened: list[str] = []
    real_open = os.open

    def counting_open(path: str | os.PathLike[str], *args: int, **kw: int) -> int:
        opened.append(os.fspath(path))
        return real_open(path, *args, **kw)

    with Inspector() as inspector:
        inspector.inspect_many([note])  # warm: ExifTool's tables are read once per process
        monkeypatch.setattr(os, "open", counting_open)
        verdicts = inspector.inspect_many([note, blob])
    assert [v.errors for v in verdicts] == [(), ()]
    assert sorted(opened) == sorted([str(note), str(blob)])
