"""Fingerprint audio: chromaprint sub-fingerprints, a dense robust hash, and an essence digest.

Chromaprint (Debian `libchromaprint-tools`' `fpcalc -raw`) gives one 32-bit
sub-fingerprint per `AUDIO_STEP` seconds of the whole file; a transcode keeps most bits of
each, and a trimmed copy is found by sliding one sequence along the other (memory/match.py).
That is too coarse for a sound of a few seconds, so one PyAV decode also gives the dense
hash (audio_hash.py, 43 words a second) from the samples resampled to mono, and the
essence: the sha256 of the decoded samples, so a lossless transcode (WAV → FLAC) or a
metadata change is an exact match.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from pathlib import Path

import numpy as np

from provenance.errors import AssetError
from provenance.fingerprint import audio_hash

# Chromaprint's item step: 4096-sample frames with 2/3 overlap at 11025 Hz.
AUDIO_STEP = 4096 / 3 / 11025
FPCALC_TIMEOUT = 300


def chromaprint(path: Path) -> tuple[tuple[int, ...], float | None]:
    fpcalc = shutil.which("fpcalc")
    if fpcalc is None:
        raise AssetError("fpcalc (Debian package libchromaprint-tools) is needed to fingerprint audio "
                         "and is not installed", path)
    # -length 0: the whole file, not the first 120 s; "--" keeps a name from reading as an option.
    try:
        proc = subprocess.run([fpcalc, "-raw", "-json", "-length", "0", "--", str(path.absolute())],
                              capture_output=True, check=False, timeout=FPCALC_TIMEOUT)
    except subprocess.TimeoutExpired:
        raise AssetError(f"fpcalc took longer than {FPCALC_TIMEOUT} s", path) from None
    # fpcalc reports "Error decoding audio frame (End of file)" and exits non-zero at the end
    # of many valid files, after printing the fingerprint: the printed result is what counts.
    try:
        out = json.loads(proc.stdout)
    except ValueError:
        message = proc.stderr.decode(errors="replace").strip().splitlines()
        if message and message[-1] == "ERROR: Empty fingerprint":
            return (), None  # shorter than chromaprint's window: only the essence can match
        raise AssetError(f"fpcalc cannot read the audio: {' '.join(message)[:200]}", path) from None
    values = tuple(int(v) & 0xFFFFFFFF for v in out.get("fingerprint", []))
    return values, float(out["duration"]) if out.get("duration") else None


def decode_audio(path: Path) -> tuple[str, tuple[int, ...]]:
    """(essence, dense hash) from one decode of the first audio stream, or AssetError."""
    import av  # lazy: ~0.1 s of every gate's start-up, needed only when media is decoded

    h = hashlib.sha256()
    mono: list[np.ndarray] = []
    try:
        with av.open(str(path)) as container:
            stream = container.streams.audio[0]
            h.update(f"{stream.codec_context.format.name}:{stream.rate}:{stream.channels}:".encode())
            resampler = av.AudioResampler(format="flt", layout="mono", rate=audio_hash.RATE)
            for frame in container.decode(stream):
                h.update(np.ascontiguousarray(frame.to_ndarray()).tobytes())
                mono.extend(f.to_ndarray()[0] for f in resampler.resample(frame))
            mono.extend(f.to_ndarray()[0] for f in resampler.resample(None))
    except (IndexError, OSError, ValueError, av.FFmpegError) as exc:
        raise AssetError(f"cannot decode the audio for a fingerprint: {exc}", path) from None
    samples = np.concatenate(mono) if mono else np.zeros(0, dtype=np.float32)
    return h.hexdigest(), tuple(int(w) for w in audio_hash.hash_samples(samples))
