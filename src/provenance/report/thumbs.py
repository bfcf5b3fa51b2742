"""Small JPEG thumbnails as data: URIs, so an HTML report is one file that opens offline.

Pillow for still images; ffmpeg (when installed) for a video's first frame and for
EXR/DPX, which Pillow cannot read. A thumbnail that cannot be made is simply absent:
the report still names the asset and its reasons.
"""

from __future__ import annotations

import base64
import io
import shutil
import subprocess

from PIL import Image

from provenance._os import open_regular
from provenance.formats import FFMPEG_THUMB_FORMATS as FFMPEG_FORMATS
from provenance.formats import PILLOW_FORMATS
from provenance.identify import HEAD_BYTES, sniff_format

MAX_PX = 320


def _pillow(path: str) -> bytes | None:
    try:
        with open_regular(path) as fh, Image.open(fh) as im:
            im.thumbnail((MAX_PX, MAX_PX))
            buf = io.BytesIO()
            im.convert("RGB").save(buf, "JPEG", quality=80)
            return buf.getvalue()
    except (OSError, ValueError, Image.DecompressionBombError):
        return None


def _ffmpeg(path: str, at: float | None = None) -> bytes | None:
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        return None
    seek = ["-ss", f"{at:.3f}"] if at else []  # before -i: a fast seek to the frame at `at` seconds
    cmd = [ffmpeg, "-v", "error", "-nostdin", *seek, "-i", path, "-frames:v", "1",
           "-vf", f"scale='min({MAX_PX},iw)':-2", "-f", "image2pipe", "-c:v", "mjpeg", "-"]
    try:
        out = subprocess.run(cmd, capture_output=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout if out.returncode == 0 and out.stdout.startswith(b"\xff\xd8") else None


def sniffed_thumbnail_uri(path: str) -> str | None:
    """A thumbnail of a file whose format is not known yet (the disclosure's rows come from
    the ledger): the format from its first bytes, as `identify` reads it."""
    try:
        with open_regular(path) as fh:
            head = fh.read(HEAD_BYTES)
    except OSError:
        return None
    return thumbnail_uri(path, sniff_format(head))


def thumbnail_uri(path: str, fmt: str, at: float | None = None) -> str | None:
    """A thumbnail of `path`; of a movie, the frame at `at` seconds (a clip's in-point)."""
    data = _pillow(path) if fmt in PILLOW_FORMATS else _ffmpeg(path, at) if fmt in FFMPEG_FORMATS else None
    if data is None and fmt in PILLOW_FORMATS:
        data = _ffmpeg(path)
    return None if data is None else "data:image/jpeg;base64," + base64.b64encode(data).decode("ascii")
