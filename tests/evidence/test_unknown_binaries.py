"""Files of no format we sniff skip ExifTool only when ExifTool cannot type them either.

The rule (`_headers.exiftool_cannot_type`) follows ExifTool's own typing procedure; these
tests hold it to the real ExifTool: every file the rule skips is read by ExifTool anyway,
which must answer "Unknown file type" and nothing else, and every trap in that procedure
(a trailer, a header past the first bytes, an extension) is shown to make ExifTool report
tags, and to send the file to ExifTool.
"""

from __future__ import annotations

import random
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from provenance.evidence import ReaderOutput, ReaderSettings, _headers
from provenance.evidence._exiftool import ExifToolProcess
from provenance.evidence._headers import exiftool_cannot_type, may_hold_metadata
from provenance.evidence.metadata import MetadataReader
from provenance.identify import identify
from provenance.model import Classification
from provenance.pipeline import Inspector
from tests.evidence.conftest import IPTC, exiftool_write, make_jpeg

pytestmark = pytest.mark.usefixtures("exiftool_available")

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus"
SAMPLES = Path(__file__).resolve().parents[2] / "sample_assets"
FUZZ = settings(max_examples=250, deadline=None, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@pytest.fixture(scope="module")
def exiftool() -> Iterator[ExifToolProcess]:
    et = ExifToolProcess()
    yield et
    et.close()


def untyped(tags: dict[str, object]) -> bool:
    """ExifTool's whole answer for a file it cannot type: file-system facts and that error."""
    rest = {k: v for k, v in tags.items()
            if not k.startswith("System:") and k != "ExifTool:ExifToolVersion"}
    return rest == {"ExifTool:Error": "Unknown file type"}


def skipped(path: Path) -> bool:
    return not may_hold_metadata(path, "unknown")


def plain_noise(size: int, seed: int = 0) -> bytes:
    """Random bytes the rule skips: the control for each trap below."""
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory() as tmp:
        f = Path(tmp) / "noise"
        for _ in range(1000):
            data = rng.randbytes(size)
            f.write_bytes(data)
            if skipped(f):
                return data
    raise AssertionError("no plain noise in 1000 tries")


# -- the property -----------------------------------------------------------------------------

def _real_heads() -> list[bytes]:
    """Openings of real files, to be cut and shifted: the material ExifTool's magic knows."""
    files = sorted(CORPUS.glob("d*")) + sorted(p for p in (SAMPLES / "show").rglob("*") if p.is_file())
    return [f.read_bytes()[:40_000] for f in files]


_NAMES = ["clip", "clip.bin", "take_001.dat", "plate.raw", "A001C003.r3d", "a.b/clip", "x.ari",
          "x.mp3", "x.iso", "x.tif", "x.mxf", "x.braw", "notes.txt", "CLIP.BIN", "x.pcd"]


@pytest.fixture(scope="module")
def heads() -> list[bytes]:
    return _real_heads()


def test_what_is_skipped_exiftool_cannot_type(heads: list[bytes], exiftool: ExifToolProcess,
                                              tmp_path: Path) -> None:
    counts = {"skipped": 0, "read": 0}

    @FUZZ
    @given(kind=st.sampled_from(["noise", "cut", "shifted", "indexed", "runs"]),
           which=st.integers(0, 10_000), cut=st.integers(1, 40), size=st.integers(1, 40_000),
           name=st.sampled_from(_NAMES), tail=st.sampled_from([b"", b"TAG", b"LYRICS200", b"\xff\xfb"]),
           seed=st.integers(0, 2**32 - 1))
    def check(kind: str, which: int, cut: int, size: int, name: str, tail: bytes, seed: int) -> None:
        rng = random.Random(seed)
        real = heads[which % len(heads)]
        if kind == "noise":
            data = rng.randbytes(size)
        elif kind == "cut":  # a real file whose first bytes are gone: our sniff fails
            data = real[cut:]
        elif kind == "shifted":  # a real file behind a few bytes of junk
            data = rng.randbytes(cut) + real
        elif kind == "indexed":  # bench/gate.py's media: an 8-byte index, then noise
            data = which.to_bytes(8, "little") + rng.randbytes(size)
        else:  # runs of one byte, then noise
            data = bytes([which % 256]) * cut * 8 + rng.randbytes(size)
        data += tail
        f = tmp_path / name
        f.parent.mkdir(exist_ok=True)
        f.write_bytes(data)
        with f.open("rb") as fh:
            cannot = exiftool_cannot_type(fh, data[:1024], f)
        # The same answer from the bytes identify hashed as from the file.
        assert may_hold_metadata(f, "unknown", data) is may_hold_metadata(f, "unknown")
        if identify(f).format != "unknown" or not cannot:
            counts["read"] += 1
            return
        counts["skipped"] += 1
        tags = exiftool.read(f, 30)
        assert untyped(tags), f"skipped {name} ({kind}), where ExifTool reads {tags}"

    check()
    assert counts["skipped"] > 20 and counts["read"] > 20, counts  # both sides exercised


def test_real_files_exiftool_types_are_never_skipped(exiftool: ExifToolProcess, tmp_path: Path) -> None:
    """Every real file ExifTool gives a type (its -FileType) or any tag is one the rule
    sends to ExifTool, as if our sniff could not name it; the same with its first bytes cut off."""
    files = sorted(CORPUS.glob("d*")) + sorted(p for p in SAMPLES.rglob("*") if p.is_file())
    assert len(files) > 40
    checked = 0
    for f in files:
        cut = tmp_path / f"cut_{f.stem}"
        cut.write_bytes(f.read_bytes()[3:])
        for path in (f, cut):
            tags = exiftool.read(path, 30)
            if "File:FileType" in tags or not untyped(tags):
                with path.open("rb") as fh:
                    cannot = exiftool_cannot_type(fh, fh.read(1024), path)
                assert not cannot, f"{path.name}: ExifTool types it"
                checked += 1
    assert checked > 40


# -- the traps in ExifTool's procedure ---------------------------------------------------------

def _id3v1(title: str) -> bytes:
    return b"TAG" + title.encode().ljust(30, b"\0") + b"\0" * 30 * 2 + b"2026" + b"\0" * 30 + b"\xff"


def _with_jpeg(tmp_path: Path) -> bytes:
    jpeg = exiftool_write(make_jpeg(tmp_path / "gen.jpg"),
                          f"-XMP-iptcExt:DigitalSourceType={IPTC}trainedAlgorithmicMedia")
    return jpeg.read_bytes()


def _mp3_frames() -> bytes:
    data = (CORPUS / "d36_sample1.mp3").read_bytes()
    if data.startswith(b"ID3"):  # skip the ID3v2 tag: leave only MPEG frames
        size = (data[6] << 21) | (data[7] << 14) | (data[8] << 7) | data[9]
        data = data[10 + size:]
    return data[data.index(b"\xff\xfb"):][:20_000]


TRAPS = {
    # MP3 has no magic number: ProcessID3 looks at both ends of every file.
    "id3v1 trailer": lambda noise, tmp: noise + _id3v1("Made with Midjourney"),
    "lyrics3 trailer": lambda noise, tmp: noise + b"LYRICSBEGIN" + b"made with Suno" + b"LYRICSEND",
    # ...and ProcessMP3 for a frame sync in the first 256 bytes.
    "mpeg frames after junk": lambda noise, tmp: b"\x00\x01\x02junk" + _mp3_frames(),
    # ISO and Photo CD look for themselves past the first 1024 bytes.
    "iso volume descriptor": lambda noise, tmp: noise[:32768] + b"\x01CD001\x01" + noise[:2041]
    + b"\xffCD001\x01" + noise[:2041],
    "photo cd header": lambda noise, tmp: noise[:2048] + b"PCD_IPI" + noise[:4096],
    # The last ditch: a JPEG or TIFF header anywhere in the first 1024 bytes.
    "jpeg after a header": lambda noise, tmp: noise[:100] + _with_jpeg(tmp),
    # One byte repeated at the start: ExifTool reports the file as damaged.
    "binary zeros": lambda noise, tmp: b"\0" * 4096 + noise,
}


@pytest.mark.parametrize("trap", sorted(TRAPS))
def test_each_trap_sends_the_file_to_exiftool(trap: str, exiftool: ExifToolProcess, tmp_path: Path) -> None:
    noise = plain_noise(40_000)
    control = tmp_path / "control"
    control.write_bytes(noise)
    assert skipped(control) and untyped(exiftool.read(control, 30))
    f = tmp_path / "clip"
    f.write_bytes(TRAPS[trap](noise, tmp_path))
    assert identify(f).format == "unknown"
    assert not untyped(exiftool.read(f, 30)), "the trap is real: ExifTool reports more"
    assert may_hold_metadata(f, "unknown")


def test_a_jpeg_behind_junk_is_judged_ai(tmp_path: Path) -> None:
    f = tmp_path / "clip"
    f.write_bytes(plain_noise(40_000)[:100] + _with_jpeg(tmp_path))
    with Inspector() as inspector:
        v = inspector.inspect(f)
    assert v.format == "unknown"
    assert v.classification is Classification.AI_GENERATED


def test_binary_zeros_stay_an_error(tmp_path: Path) -> None:
    f = tmp_path / "clip"
    f.write_bytes(b"\0" * 4096 + plain_noise(40_000))
    with Inspector() as inspector:
        v = inspector.inspect(f)
    assert any("binary zeros" in e for e in v.errors), v.errors


@pytest.mark.parametrize("name", ["x.mp3", "x.iso", "x.mxf", "x.tif", "x.TIF", "x.dv", "a.b/mp3"])
def test_a_name_exiftool_types_by_is_read(name: str, tmp_path: Path) -> None:
    """Its extension names a type ExifTool tries first (MXF and DV even without their magic
    number); "a.b/mp3" has none, and the upper-cased name is a type too (looked up to be safe)."""
    f = tmp_path / name
    f.parent.mkdir(exist_ok=True)
    f.write_bytes(plain_noise(40_000))
    assert may_hold_metadata(f, "unknown")


def test_a_name_read_through_a_link_is_read(tmp_path: Path) -> None:
    f = tmp_path / "clip.mp\n3"  # ExifTool would see it as f0.mp3, behind a link with a safe name
    f.write_bytes(plain_noise(40_000))
    assert may_hold_metadata(f, "unknown")


def test_magic_numbers_keep_perls_meaning(tmp_path: Path) -> None:
    """`/^$magic/s` with a top-level `|`: JXL's second alternative matches anywhere in the
    first 1024 bytes, not only at the start."""
    noise = plain_noise(40_000)
    f = tmp_path / "clip"
    f.write_bytes(noise[:200] + b"\0\0\0\x0cJXL \r\n\x87\n\0\0\0\x14ftypjxl " + noise[:200])
    with f.open("rb") as fh:
        assert not exiftool_cannot_type(fh, f.read_bytes()[:1024], f)


@pytest.mark.parametrize("change", ["new magic-less type", "longer test buffer", "no tables"])
def test_another_exiftool_is_not_second_guessed(change: str, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    f = tmp_path / "clip"
    f.write_bytes(plain_noise(40_000))
    assert skipped(f)
    tables = _headers._exiftool_tables()
    assert tables is not None
    if change == "new magic-less type":
        other = tables._replace(magicless=tables.magicless | {"NEW"})
    elif change == "longer test buffer":
        other = tables._replace(test_len=2048)
    else:
        other = None
    monkeypatch.setattr(_headers, "_exiftool_tables", lambda: other)
    assert may_hold_metadata(f, "unknown")


def test_noise_never_starts_exiftool(tmp_path: Path) -> None:
    """Media like bench/gate.py's: 1.5 MB of noise cost ExifTool 3.4 ms each to say it
    cannot type them; now the reader has no work and the process is never started."""
    files = []
    for i in range(5):
        f = tmp_path / f"clip_{i}.bin"
        f.write_bytes(plain_noise(1_500_000, seed=i))
        files.append(f)
    reader = MetadataReader(ReaderSettings())
    try:
        assets = [identify(f) for f in files]
        assert [reader.has_work(a) for a in assets] == [False] * 5
        assert reader.read(assets[0]) == ReaderOutput()
        slow = MetadataReader(ReaderSettings(), fast_path=False)  # what ExifTool itself says
        try:
            assert slow.read_many(assets) == [ReaderOutput()] * 5
        finally:
            slow.close()
        assert reader._exiftool is None
    finally:
        reader.close()
