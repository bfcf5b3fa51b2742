"""Decode a still into what a viewer sees: display-referred RGB, alpha flattened, small.

Perceptual hashes compare pictures as they look, so every source is brought to one form
first: float32 RGB in 0..1 on the sRGB display curve, at most `MAX_SIDE` pixels on its long
side (hashes look at 32×32; a small decode is what keeps fingerprinting near the cost of a
bare decode).
- JPEG, PNG, WebP, GIF, 8-bit TIFF, BMP: Pillow (JPEG in draft mode: the decoder scales by
  1/2..1/8 in the IDCT, so a 4K JPEG is never decoded at full size; measured on the corpus
  JPEGs, the draft picture's hashes are 0–10 of 256 bits from a full decode's); EXIF
  orientation applied.
- EXR, DPX, 16-bit TIFF and whatever Pillow cannot open: FFmpeg's decoders through PyAV.
  EXR is scene-linear, so it goes through the sRGB transfer curve (a linear EXR of a
  picture then looks like the picture); 10/12/16-bit integer formats are scaled to 0..1.
- Alpha is premultiplied (composited over black, as a compositor would flatten a
  premultiplied layer): a transparent pixel carries no picture.

`decode` also returns the essence digest when asked: that is what proves a pure metadata
change or a lossless re-wrap. For a JPEG it is the sha256 of the coded picture
(`fingerprint/jpeg.py`: no full decode needed); for every other format the sha256 of the
full-resolution decoded pixels.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image, ImageOps

from provenance.errors import AssetError
from provenance.fingerprint.jpeg import coded_essence

if TYPE_CHECKING:
    import av

MAX_SIDE = 512
PILLOW_FORMATS = frozenset({"jpeg", "png", "webp", "gif", "tiff", "bmp"})
PYAV_FORMATS = frozenset({"exr", "dpx", "tiff"})
STILL_FORMATS = PILLOW_FORMATS | PYAV_FORMATS

Image.MAX_IMAGE_PIXELS = None  # plates are large on purpose

# PyAV pixel formats we ask FFmpeg for: float for EXR (linear light), 16-bit otherwise.
_FLOAT_FORMAT = "gbrapf32le"
_INT_FORMAT = "rgba64le"


@dataclass(frozen=True)
class Picture:
    rgb: np.ndarray  # float32, H×W×3, display-referred 0..1, long side ≤ MAX_SIDE
    width: int  # of the full-resolution source
    height: int
    essence: str | None  # sha256 of the canonical decoded pixels, when asked for


def srgb_encode(linear: np.ndarray) -> np.ndarray:
    """The sRGB transfer curve (IEC 61966-2-1) on scene-linear values, clipped to 0..1."""
    x = np.clip(linear, 0.0, 1.0)
    return np.where(x <= 0.0031308, 12.92 * x, 1.055 * np.power(x, 1 / 2.4) - 0.055).astype(np.float32)


def _flatten(rgba: np.ndarray) -> np.ndarray:
    return rgba[..., :3] * rgba[..., 3:4]


def _essence(kind: str, width: int, height: int, data: bytes) -> str:
    h = hashlib.sha256(f"{kind}:{width}x{height}:".encode())
    h.update(data)
    return h.hexdigest()


def frame_essence(frame: av.VideoFrame) -> str:
    """sha256 of a decoded frame's planes in the decoder's own pixel format, row padding cut."""
    h = hashlib.sha256(f"{frame.format.name}:{frame.width}x{frame.height}:".encode())
    components = frame.format.components
    for index, plane in enumerate(frame.planes):
        # Bytes per pixel of this plane: the bits of the components stored in it, rounded up.
        bits = sum(-(-c.bits // 8) * 8 for c in components if c.plane == index)
        rows = np.frombuffer(memoryview(plane), np.uint8).reshape(plane.height, plane.line_size)
        h.update(np.ascontiguousarray(rows[:, : plane.width * max(1, bits // 8)]).data)
    return h.hexdigest()


def _small_size(width: int, height: int) -> tuple[int, int]:
    scale = min(1.0, MAX_SIDE / max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


def _pillow_canonical(img: Image.Image) -> Image.Image:
    """8-bit RGB or RGBA: palette, grey and CMYK become RGB; an opaque alpha is dropped."""
    has_alpha = img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info)
    target = "RGBA" if has_alpha else "RGB"
    out = img if img.mode == target else img.convert(target)  # convert() copies even when equal
    if has_alpha and out.getchannel("A").getextrema()[0] == 255:
        out = out.convert("RGB")
    return out


def _decode_pillow(path: Path, fmt: str, essence: bool) -> Picture | None:
    """None when Pillow cannot represent the pixels faithfully (16-bit colour, float)."""
    source: Path | io.BytesIO = path
    digest = None
    if fmt == "jpeg":
        # One read serves both: the coded-data essence and Pillow's draft decode.
        data = path.read_bytes()
        digest = coded_essence(data) if essence else None
        source = io.BytesIO(data)
    with Image.open(source) as img:
        if img.mode in ("I;16", "I;16B", "I;16L", "I", "F") or img.mode.startswith(("RGB;16", "RGBA;16")):
            return None
        width, height = img.size
        if img.format == "JPEG" and (digest is not None or not essence):
            # The IDCT scales by 1/2..1/8 (the largest that keeps the long side ≥ MAX_SIDE / 2):
            # a 4K JPEG decodes at 480×270, never at full size.
            scale = min(1.0, MAX_SIDE / max(width, height))
            img.draft("RGB", (max(1, round(width * scale)), max(1, round(height * scale))))
        img.load()
        # exif_transpose copies the whole picture even when there is nothing to turn.
        turned = ImageOps.exif_transpose(img) if img.getexif().get(0x0112, 1) != 1 else img
        canonical = _pillow_canonical(turned)
        if essence and digest is None:
            digest = _essence(canonical.mode, canonical.width, canonical.height, canonical.tobytes())
        small = canonical.resize(_small_size(*canonical.size), Image.Resampling.BOX)
    arr = np.asarray(small, dtype=np.float32) / 255.0
    rgb = _flatten(arr) if arr.shape[-1] == 4 else arr
    return Picture(np.ascontiguousarray(rgb), width, height, digest)


def _decode_pyav(path: Path, essence: bool) -> Picture:
    import av  # lazy: ~0.1 s of every gate's start-up, needed only when media is decoded

    with av.open(str(path), mode="r") as container:
        stream = container.streams.video[0]
        frame = next(container.decode(stream))
        is_float = "f32" in frame.format.name or "f16" in frame.format.name
        target = _FLOAT_FORMAT if is_float else _INT_FORMAT
        width, height = frame.width, frame.height
        digest = None
        if essence:
            digest = frame_essence(frame)
        w, h = _small_size(width, height)
        small = frame.reformat(width=w, height=h, format=target, interpolation="AREA").to_ndarray()
    if is_float:
        # PyAV reorders the planar G, B, R, A to H×W×(R, G, B, A).
        rgb = srgb_encode(small[..., :3]) * np.clip(small[..., 3:4], 0.0, 1.0)
    else:
        rgba = small.astype(np.float32) / 65535.0
        rgb = _flatten(rgba)
    return Picture(np.ascontiguousarray(rgb, dtype=np.float32), width, height, digest)


def decode(path: Path, fmt: str, essence: bool = True) -> Picture:
    """The display-referred picture of a still, or AssetError naming the file and why."""
    import av  # lazy: ~0.1 s of every gate's start-up, needed only when media is decoded

    try:
        if fmt in PILLOW_FORMATS:
            picture = _decode_pillow(path, fmt, essence)
            if picture is not None:
                return picture
        return _decode_pyav(path, essence)
    except AssetError:
        raise
    except (OSError, ValueError, StopIteration, av.FFmpegError, Image.DecompressionBombError) as exc:
        raise AssetError(f"cannot decode the picture for a fingerprint: {exc}", path) from None
