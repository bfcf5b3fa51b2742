"""Fixtures for tagging tests: tiny real media of every format we tag, made per test."""

from __future__ import annotations

import io
import random
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PIL import Image

from provenance.evidence import ReaderSettings
from provenance.identity import SigningIdentity
from provenance.tagging import Tagger

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / "sample_assets"


def noise_image(seed: int = 7, size: tuple[int, int] = (48, 32)) -> Image.Image:
    rng = random.Random(seed)
    return Image.frombytes("RGB", size, rng.randbytes(size[0] * size[1] * 3))


def _ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", *args], check=True)


_SRC_V = ["-f", "lavfi", "-i", "testsrc=size=64x48:rate=25"]


def make_media(fmt: str, dest: Path) -> Path:
    """A small real file of `fmt` at `dest` (any name: the content decides the format)."""
    if fmt in ("jpeg", "png", "webp", "tiff"):
        buf = io.BytesIO()
        noise_image().save(buf, {"jpeg": "JPEG", "png": "PNG", "webp": "WEBP",
                                 "tiff": "TIFF"}[fmt])
        dest.write_bytes(buf.getvalue())
        return dest
    tmp = dest.with_name(f"build.{fmt}")  # ffmpeg picks the muxer from the extension
    if fmt == "mp4":
        _ffmpeg(*_SRC_V, "-t", "0.4", "-c:v", "libx264", "-pix_fmt", "yuv420p", str(tmp))
    elif fmt == "mov":
        _ffmpeg(*_SRC_V, "-t", "0.4", "-c:v", "prores_ks", "-profile:v", "0", str(tmp))
    elif fmt == "wav":
        _ffmpeg("-f", "lavfi", "-i", "sine=frequency=440:sample_rate=8000:duration=0.3",
                "-c:a", "pcm_s16le", str(tmp))
    elif fmt == "exr":
        _ffmpeg(*_SRC_V, "-frames:v", "1", "-c:v", "exr", "-pix_fmt", "gbrpf32le", str(tmp))
    elif fmt == "dpx":
        _ffmpeg(*_SRC_V, "-frames:v", "1", "-c:v", "dpx", "-pix_fmt", "rgb48le", str(tmp))
    elif fmt == "mxf":
        _ffmpeg(*_SRC_V, "-t", "0.2", "-c:v", "mpeg2video", "-f", "mxf", str(tmp))
    else:
        raise ValueError(fmt)
    tmp.replace(dest)
    return dest


@pytest.fixture
def media(tmp_path: Path) -> Callable[..., Path]:
    def make(fmt: str, name: str | None = None) -> Path:
        ext = {"jpeg": "jpg", "tiff": "tif"}.get(fmt, fmt)
        return make_media(fmt, tmp_path / (name or f"asset.{ext}"))
    return make


@pytest.fixture(scope="session")
def reader_settings(signing_identity: SigningIdentity) -> ReaderSettings:
    assert signing_identity.ca_path is not None
    return ReaderSettings(trust_anchors_pem=signing_identity.ca_path.read_text())


@pytest.fixture
def tagger(signing_identity: SigningIdentity, exiftool_available: None) -> Iterator[Tagger]:
    with Tagger(signing_identity) as t:
        yield t


def temps_in(folder: Path) -> list[Path]:
    return [p for p in folder.iterdir() if p.name.startswith(".provenance-tmp-")
            or p.name.endswith("_exiftool_tmp")]


@pytest.fixture(scope="session")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    """A private copy of a committed sample (tests must never modify sample_assets/)."""
    root = tmp_path_factory.mktemp("samples")

    def copy(rel: str) -> Path:
        dest = root / f"{len(list(root.iterdir()))}" / Path(rel).name
        dest.parent.mkdir()
        shutil.copy2(SAMPLES / rel, dest)
        return dest
    return copy
