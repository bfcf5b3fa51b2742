"""Fingerprint audio in one decode: chromaprint, a dense robust hash, and an essence digest.

One PyAV decode of the first audio stream feeds three things:
- chromaprint (libchromaprint through ctypes, chromaprint.py; the same raw items as Debian's
  `fpcalc -raw`): one 32-bit sub-fingerprint per `AUDIO_STEP` seconds of the whole file; a
  transcode keeps most bits of each, and a trimmed copy is found by sliding one sequence
  along the other (memory/match.py);
- the dense hash (audio_hash.py, 43 words a second, from the samples resampled to mono),
  for sounds of a few seconds that chromaprint's items are too coarse for;
- the essence: the sha256 of the decoded samples, so a lossless transcode (WAV → FLAC) or a
  metadata change is an exact match.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from provenance.errors import AssetError
from provenance.fingerprint import audio_hash
from provenance.fingerprint.chromaprint import Chromaprint, ChromaprintMissing

if TYPE_CHECKING:
    import av

# Chromaprint's item step: 4096-sample frames with 2/3 overlap at 11025 Hz.
AUDIO_STEP = 4096 / 3 / 11025
# Decoded frames resampled at once: per call, swresample and PyAV cost more than the samples
# of one 26 ms MP3 frame (resampling frame by frame took twice the time of the decode).
_BLOCK = 64


@dataclass(frozen=True)
class Sound:
    essence: str
    chromaprint: tuple[int, ...]  # () for a sound shorter than chromaprint's window
    dense: tuple[int, ...]
    duration: float | None  # seconds of decoded sound


# numpy types of FFmpeg's sample formats (packed; the planar ones end in "p").
_DTYPES = {"u8": "u1", "s16": "<i2", "s32": "<i4", "s64": "<i8", "flt": "<f4", "dbl": "<f8"}


def _planes(frame: av.AudioFrame) -> list[np.ndarray]:
    """The frame's samples, one array per plane (one for packed formats), without padding.

    Their bytes in order are what `frame.to_ndarray()` gives (and what the essence hashes),
    read straight from the planes: to_ndarray's stacking cost more than the decode."""
    fmt = frame.format
    dtype = np.dtype(_DTYPES[fmt.packed.name])
    n = frame.samples * (1 if fmt.is_planar else len(frame.layout.channels))
    return [np.frombuffer(memoryview(plane), dtype=dtype, count=n).copy() for plane in frame.planes]


class _Converter:
    """Decoded frames, in blocks, to mono float at audio_hash.RATE (the dense hash) and to
    16-bit at the file's rate (chromaprint, which averages the channels itself; more than two
    are mixed to stereo first, as fpcalc's reader does)."""

    def __init__(self, rate: int, channels: int, printer: Chromaprint) -> None:
        import av

        self._av = av
        self._mono = av.AudioResampler(format="flt", layout="mono", rate=audio_hash.RATE)
        self._s16 = av.AudioResampler(format="s16", layout="mono" if channels == 1 else "stereo", rate=rate)
        self._printer = printer
        self._block: list[list[np.ndarray]] = []
        self._kind = ("", "", 0)
        self.mono: list[np.ndarray] = []

    def add(self, planes: list[np.ndarray], frame: av.AudioFrame) -> None:
        kind = (frame.format.name, frame.layout.name, frame.sample_rate)
        if self._block and kind != self._kind:
            self._convert()
        self._kind = kind
        self._block.append(planes)
        if len(self._block) >= _BLOCK:
            self._convert()

    def _convert(self) -> None:
        fmt, layout, rate = self._kind
        block = np.stack([np.concatenate(plane) for plane in zip(*self._block, strict=True)])
        frame = self._av.AudioFrame.from_ndarray(block, format=fmt, layout=layout)
        frame.sample_rate = rate
        self._block = []
        self._take(frame)

    def _take(self, frame: av.AudioFrame | None) -> None:
        self.mono.extend(f.to_ndarray()[0] for f in self._mono.resample(frame))
        for f in self._s16.resample(frame):
            self._printer.feed(f.to_ndarray())

    def finish(self) -> np.ndarray:
        if self._block:
            self._convert()
        self._take(None)  # what the resamplers hold back
        return np.concatenate(self.mono) if self.mono else np.zeros(0, dtype=np.float32)


def decode_audio(path: Path) -> Sound:
    """Everything audio memory keeps of a file, from one decode, or AssetError naming it."""
    import av  # lazy: ~0.1 s of every gate's start-up, needed only when media is decoded

    h = hashlib.sha256()
    count = 0
    try:
        with av.open(str(path)) as container:
            stream = container.streams.audio[0]
            h.update(f"{stream.codec_context.format.name}:{stream.rate}:{stream.channels}:".encode())
            channels = 1 if stream.channels == 1 else 2
            with Chromaprint(stream.rate, channels) as printer:
                converter = _Converter(stream.rate, channels, printer)
                for frame in container.decode(stream):
                    planes = _planes(frame)
                    for plane in planes:
                        h.update(plane.data)
                    count += frame.samples
                    converter.add(planes, frame)
                mono = converter.finish()
                items = printer.finish()
            rate = stream.rate
    except ChromaprintMissing as exc:
        raise AssetError(exc.reason, path) from None
    except (IndexError, OSError, ValueError, av.FFmpegError) as exc:
        raise AssetError(f"cannot decode the audio for a fingerprint: {exc}", path) from None
    dense = audio_hash.hash_samples(mono)
    return Sound(h.hexdigest(), items, tuple(int(w) for w in dense), count / rate if count and rate else None)
