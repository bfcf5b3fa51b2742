"""Fingerprint a video: perceptual hashes of sampled frames with their times, and an essence.

One decode pass with PyAV (FFmpeg's decoders, frame threads). Every frame is shrunk to a
small grey copy (cheap in swscale) to detect scene changes; a frame is sampled when
`INTERVAL` seconds passed since the last sample or the picture changed abruptly (a cut),
so each shot of a cut-down edit is represented. Sampled frames get the still pipeline's
display-referred picture hash (bars trimmed) at their presentation time: a clip cut
into a longer video is then found with its time range.

The essence is the sha256 of every compressed video and audio packet in order: a lossless
re-wrap (MP4 → MOV) or a metadata change keeps it. Hashing decoded frames would cost as
much as the decode itself (3 MB per 1080p frame) for the same answer on a re-wrap.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from provenance.errors import AssetError
from provenance.fingerprint import still
from provenance.fingerprint.display import MAX_SIDE, srgb_encode
from provenance.fingerprint.model import FrameHash

if TYPE_CHECKING:
    import av

INTERVAL = 0.25  # seconds between samples: a trimmed copy starts at most 0.125 s off a sample
SCENE_CUT = 0.25  # mean absolute change of the 32×32 grey thumbnail that counts as a cut
MAX_FRAMES = 2400  # a long video is sampled more sparsely (10 minutes at 4 per second)
_SMALL = 32


def _picture(frame: av.VideoFrame) -> np.ndarray:
    scale = min(1.0, MAX_SIDE / max(frame.width, frame.height))
    w, h = max(2, round(frame.width * scale)), max(2, round(frame.height * scale))
    if "f32" in frame.format.name or "f16" in frame.format.name:
        arr = frame.reformat(width=w, height=h, format="gbrpf32le", interpolation="AREA").to_ndarray()
        return srgb_encode(arr)
    rgb = frame.reformat(width=w, height=h, format="rgb24", interpolation="AREA").to_ndarray()
    return rgb / np.float32(255)


def _essence(path: Path) -> str:
    import av  # lazy: ~0.1 s of every gate's start-up, needed only when media is decoded

    h = hashlib.sha256()
    with av.open(str(path)) as container:
        streams = [s for s in container.streams if s.type in ("video", "audio")]
        for packet in container.demux(streams):
            if packet.size:
                h.update(f"{packet.stream.index}:{packet.pts}:".encode())
                h.update(memoryview(packet))
    return h.hexdigest()


def fingerprint_video(path: Path) -> tuple[tuple[FrameHash, ...], float | None, str]:
    """(sampled frame hashes, duration in seconds, essence), or AssetError naming the file."""
    import av  # lazy: ~0.1 s of every gate's start-up, needed only when media is decoded

    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise AssetError("no video stream to fingerprint", path)
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            duration = (float(stream.duration * stream.time_base) if stream.duration and stream.time_base
                        else (container.duration / 1e6 if container.duration else None))
            interval = INTERVAL if not duration else max(INTERVAL, duration / MAX_FRAMES)
            frames: list[FrameHash] = []
            last_t: float | None = None
            last_thumb: np.ndarray | None = None
            start: float | None = None
            for frame in container.decode(stream):
                if frame.time is None:
                    continue
                if start is None:
                    start = frame.time
                t = frame.time - start
                thumb = frame.reformat(width=_SMALL, height=_SMALL, format="gray",
                                       interpolation="FAST_BILINEAR").to_ndarray().astype(np.float32) / 255
                cut = last_thumb is not None and float(np.abs(thumb - last_thumb).mean()) >= SCENE_CUT
                last_thumb = thumb
                if last_t is None or t - last_t >= interval - 1e-6 or cut:
                    frames.append(FrameHash(t, tuple(still.hashes(_picture(frame), variants=False))))
                    last_t = t
        if not frames:
            raise AssetError("no decodable video frame to fingerprint", path)
        return tuple(frames), duration, _essence(path)
    except AssetError:
        raise
    except (OSError, ValueError, av.FFmpegError) as exc:
        raise AssetError(f"cannot decode the video for a fingerprint: {exc}", path) from None
