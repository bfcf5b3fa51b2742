"""Issue 10 item 12: metadata that inflates far past its size is refused with its reason, and
the ExifTool process is bounded in memory and in what it sends back (real ExifTool)."""

from __future__ import annotations

import struct
import time
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from provenance.evidence import ReaderSettings
from provenance.evidence._exiftool import ExifToolFailure, ExifToolProcess
from provenance.evidence._inflation import inflation_problem
from provenance.evidence.metadata import MetadataReader
from provenance.identify import identify
from tests.evidence.conftest import make_png
from tests.gate.conftest import Show, asset, show  # noqa: F401  (the gate's show fixture)

pytestmark = pytest.mark.usefixtures("exiftool_available")


def zeros_stream(mib: int) -> bytes:
    """A valid zlib stream of `mib` MiB of zeros, built in milliseconds: after a full flush
    the compressor's state is reset, so every further MiB compresses to the same bytes; the
    Adler-32 of n zeros is (n mod 65521) << 16 | 1."""
    block = bytes(1 << 20)
    c = zlib.compressobj(9)
    first = c.compress(block) + c.flush(zlib.Z_FULL_FLUSH)
    again = c.compress(block) + c.flush(zlib.Z_FULL_FLUSH)
    tail = c.flush()
    adler = (((mib << 20) % 65521) << 16) | 1
    return first + again * (mib - 1) + tail[:-4] + adler.to_bytes(4, "big")


def chunk(ctype: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + ctype + body + struct.pack(">I", zlib.crc32(ctype + body))


def png_with(path: Path, *chunks: bytes) -> Path:
    data = make_png(path).read_bytes()
    iend = data.rindex(b"IEND") - 4
    path.write_bytes(data[:iend] + b"".join(chunks) + data[iend:])
    return path


def ztxt(keyword: bytes, stream: bytes) -> bytes:
    return chunk(b"zTXt", keyword + b"\x00\x00" + stream)


def itxt(keyword: bytes, stream: bytes) -> bytes:
    return chunk(b"iTXt", keyword + b"\x00\x01\x00en\x00\x00" + stream)


@pytest.fixture(scope="module")
def reader() -> Iterator[MetadataReader]:
    r = MetadataReader(ReaderSettings())
    yield r
    r.close()


def test_zlib_helper_is_a_real_gibibyte() -> None:
    stream = zeros_stream(4)
    assert zlib.decompress(stream) == bytes(4 << 20)


@pytest.mark.parametrize("make", [ztxt, itxt], ids=["zTXt", "iTXt"])
def test_one_megabyte_png_inflating_to_a_gibibyte_is_refused(tmp_path: Path, reader, make) -> None:
    bomb = png_with(tmp_path / "bomb.png", make(b"comment", zeros_stream(1024)))
    assert bomb.stat().st_size < 1_200_000
    started = time.monotonic()
    out = reader.read(identify(bomb))
    assert out.errors and "decompression bomb" in out.errors[0] and "'comment'" in out.errors[0]
    assert time.monotonic() - started < 60  # stopped at the bound, not after inflating it all


def test_many_small_chunks_share_one_budget(tmp_path: Path) -> None:
    parts = [ztxt(f"k{i}".encode(), zeros_stream(8)) for i in range(6)]  # 48 MiB in all
    f = png_with(tmp_path / "many.png", *parts)
    assert inflation_problem(f, "png") is not None
    assert inflation_problem(png_with(tmp_path / "few.png", *parts[:2]), "png") is None


def test_ordinary_compressed_text_is_read(tmp_path: Path, reader) -> None:
    text = b"a castle\nSteps: 20, Sampler: Euler a, CFG scale: 7, Seed: 1"
    f = png_with(tmp_path / "ok.png", ztxt(b"parameters", zlib.compress(text)))
    out = reader.read(identify(f))
    assert not out.errors
    assert any(e.field == "PNG:Parameters" and e.signal == "ai_generated" for e in out.evidence)


def test_a_bomb_in_a_batch_costs_only_itself(tmp_path: Path, reader) -> None:
    text = b"a castle\nSteps: 20, Sampler: Euler a, CFG scale: 7, Seed: 1"
    ai = png_with(tmp_path / "ai.png", ztxt(b"parameters", zlib.compress(text)))
    bomb = png_with(tmp_path / "bomb.png", ztxt(b"comment", zeros_stream(256)))
    outs = reader.read_many([identify(ai), identify(bomb)])
    assert outs is not None
    assert not outs[0].errors and any(e.signal == "ai_generated" for e in outs[0].evidence)
    assert outs[1].errors and "decompression bomb" in outs[1].errors[0]


def test_gate_is_undecided_on_a_bomb_and_says_why(show: Show, capsys) -> None:  # noqa: F811
    png_with(show.pkg / "bomb.png", ztxt(b"comment", zeros_stream(1024)))
    rc, report, _ = show.gate(show.pkg, capsys=capsys)
    assert rc == 3 and report["result"] == "undecided"
    assert any("decompression bomb" in r for r in asset(report, "bomb.png")["reasons"])


# -- the process bounds: whatever the format, ExifTool cannot run away ---------------------------

def test_exiftool_is_killed_past_its_memory_limit(tmp_path: Path) -> None:
    """The class behind the PNG check: any data ExifTool inflates (here a PNG it is handed
    directly, without the pre-check) is stopped by the process's memory bound."""
    bomb = png_with(tmp_path / "bomb.png", ztxt(b"comment", zeros_stream(512)))
    plain = make_png(tmp_path / "plain.png")
    et = ExifToolProcess(memory_limit=96 << 20)
    try:
        with pytest.raises(ExifToolFailure, match="memory limit"):
            et.read(bomb, 120)
        assert et.read(plain, 60)["PNG:ImageWidth"] == 32  # restarted, and still reads
    finally:
        et.close()


def test_exiftool_answer_is_capped(tmp_path: Path) -> None:
    big = png_with(tmp_path / "big.png", chunk(b"tEXt", b"Comment\x00" + b"x" * (6 << 20)))
    et = ExifToolProcess(output_limit=2 << 20)
    try:
        with pytest.raises(ExifToolFailure, match="answer went past 2 MiB"):
            et.read(big, 120)
        assert et.read(make_png(tmp_path / "plain.png"), 60)["PNG:ImageWidth"] == 32
    finally:
        et.close()
