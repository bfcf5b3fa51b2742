"""Fingerprints of real files: the essence, the display-referred picture, the hash definition."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from provenance.errors import AssetError
from provenance.fingerprint import Kind, fingerprint, still
from provenance.fingerprint.display import decode
from tests.memory.conftest import ffmpeg, fp

pytestmark = pytest.mark.usefixtures("media_tools")


def test_the_soft_hash_is_iscc_image_code_bit_for_bit(corpus_dir: Path) -> None:
    iscc_core = pytest.importorskip("iscc_core")
    grey = Image.open(corpus_dir / "d02_Firefly_tabby_cat.jpg").convert("L")
    for size in (32, 40):
        px = np.asarray(grey.resize((32, 32), Image.Resampling.BICUBIC) if size == 32 else
                        grey.resize((size, size)).resize((32, 32)), dtype=np.float64)
        ours = still.soft_hash(px)
        reference = iscc_core.soft_hash_image_v0([int(v) for v in px.ravel()], bits=256)
        assert ours == int.from_bytes(reference, "big")


def test_metadata_stripped_is_the_same_essence_and_the_same_picture(corpus_dir: Path, tmp_path: Path) -> None:
    src = corpus_dir / "d10_sd-webui.png"  # A1111 parameters in tEXt
    dst = tmp_path / "stripped.png"
    shutil.copyfile(src, dst)
    subprocess.run(["exiftool", "-q", "-q", "-all=", "-overwrite_original", str(dst)], check=True)
    a, b = fp(src), fp(dst)
    assert a.sha256 != b.sha256
    assert a.essence == b.essence and a.frames == b.frames


def test_re_encoded_is_another_essence(corpus_dir: Path, tmp_path: Path) -> None:
    src = corpus_dir / "d10_sd-webui.png"
    Image.open(src).convert("RGB").save(tmp_path / "q90.jpg", quality=90)
    assert fp(src).essence != fp(tmp_path / "q90.jpg").essence


def _linear_exr(rgb8: np.ndarray, dst: Path) -> None:
    rgb = rgb8.astype(np.float32) / 255
    lin = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4).astype(np.float32)
    planes = np.stack([lin[..., 1], lin[..., 2], lin[..., 0]])
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "gbrpf32le",
                    "-s", f"{rgb8.shape[1]}x{rgb8.shape[0]}", "-i", "-", "-c:v", "exr", "-format", "half",
                    str(dst)], input=planes.tobytes(), check=True)


def test_linear_exr_and_16_bit_formats_are_seen_as_displayed(corpus_dir: Path, tmp_path: Path) -> None:
    src = tmp_path / "src.png"
    Image.open(corpus_dir / "d02_Firefly_tabby_cat.jpg").convert("RGB").reduce(4).save(src)
    _linear_exr(np.asarray(Image.open(src)), tmp_path / "lin.exr")
    ffmpeg("-i", str(src), "-pix_fmt", "gbrp10le", str(tmp_path / "p.dpx"))
    ffmpeg("-i", str(src), "-pix_fmt", "rgb48le", str(tmp_path / "p16.tif"))
    ref = decode(src, "png").rgb
    for name, kind in (("lin.exr", "exr"), ("p.dpx", "dpx"), ("p16.tif", "tiff")):
        seen = decode(tmp_path / name, kind).rgb
        assert float(np.abs(seen - ref).mean()) < 0.01, name  # linear EXR unencoded would be off by ~0.15
        assert still.distance(fp(tmp_path / name).frames[0].picture, fp(src).frames[0].picture) <= 8, name


def test_black_bars_are_trimmed_before_hashing(corpus_dir: Path, tmp_path: Path) -> None:
    img = Image.open(corpus_dir / "d05_amazon-titan-g1.png").convert("RGB")
    img.save(tmp_path / "src.png")
    canvas = Image.new("RGB", (1920, 1080))
    fit = img.resize((1080 * img.width // img.height, 1080))
    canvas.paste(fit, ((1920 - fit.width) // 2, 0))
    canvas.save(tmp_path / "pillarbox.jpg", quality=90)
    assert still.distance(fp(tmp_path / "src.png").frames[0].picture,
                          fp(tmp_path / "pillarbox.jpg").frames[0].picture) <= 16


def test_a_flat_picture_has_no_perceptual_hash(tmp_path: Path) -> None:
    Image.new("RGB", (640, 360)).save(tmp_path / "black.png")
    got = fp(tmp_path / "black.png")
    assert got.frames[0].hashes == () and got.essence


def test_video_frames_are_sampled_with_times(corpus_dir: Path) -> None:
    got = fp(corpus_dir / "d19_prmiere-firefly.mp4")
    assert got.kind is Kind.VIDEO and got.duration == pytest.approx(3.0, abs=0.1)
    times = [f.t for f in got.frames]
    assert times[0] == 0.0 and times == sorted(times) and len(times) >= 10
    assert all(len(f.hashes) == 1 for f in got.frames if f.hashes)  # no crop variants for frames


def test_audio_has_chromaprint_and_a_sample_essence(corpus_dir: Path, tmp_path: Path) -> None:
    ffmpeg("-i", str(corpus_dir / "d36_sample1.mp3"), str(tmp_path / "a.wav"))
    ffmpeg("-i", str(tmp_path / "a.wav"), "-c:a", "flac", str(tmp_path / "a.flac"))
    wav, flac = fp(tmp_path / "a.wav"), fp(tmp_path / "a.flac")
    assert wav.kind is Kind.AUDIO and len(wav.audio) > 20
    assert wav.essence == flac.essence  # a lossless transcode decodes to the same samples


def test_a_corrupt_picture_names_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 40)
    with pytest.raises(AssetError, match=r"broken\.png"):
        fingerprint(bad, "png", "0" * 64)


def test_chromaprint_from_our_decode_is_fpcalcs(corpus_dir: Path, tmp_path: Path) -> None:
    """Chromaprint is fed the samples of the one PyAV decode (no second decode in fpcalc): its
    items must be what `fpcalc -raw` gives, or stored originals printed by fpcalc stop matching."""
    import json

    if shutil.which("fpcalc") is None:
        pytest.skip("fpcalc (libchromaprint-tools) is not installed")
    src = corpus_dir / "d36_sample1.mp3"
    out = subprocess.run(["fpcalc", "-raw", "-json", "-length", "0", str(src)], capture_output=True,
                         check=False)
    want = tuple(int(v) & 0xFFFFFFFF for v in json.loads(out.stdout)["fingerprint"])
    assert fp(src).audio == want and len(want) > 20
    ffmpeg("-i", str(src), "-af", "pan=5.1|c0=c0|c1=c1|c2=c0|c3=c1|c4=c0|c5=c1",
           str(tmp_path / "surround.wav"))
    surround = fp(tmp_path / "surround.wav")  # more than two channels: mixed to stereo first
    assert len(surround.audio) == len(want) and surround.audio_hash
