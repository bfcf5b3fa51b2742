"""Content fingerprints: what an asset looks and sounds like, so a re-saved copy is recognised.

`fingerprint(path, format, sha256)` picks the media kind from the sniffed format:
stills (display-referred picture hashes with crop variants, essence of the decoded
pixels), video (sampled frames with times, essence of the packets) and audio (chromaprint,
the dense audio hash, essence of the decoded samples). Formats that hold no picture or sound return None.
"""

from __future__ import annotations

from pathlib import Path

from provenance.fingerprint import still
from provenance.fingerprint.audio import decode_audio
from provenance.fingerprint.display import STILL_FORMATS, decode
from provenance.fingerprint.model import VERSION, Fingerprint, FrameHash, Kind
from provenance.fingerprint.video import fingerprint_video

VIDEO_FORMATS = frozenset({"mp4", "mov", "mkv", "webm", "avi", "mxf"})
AUDIO_FORMATS = frozenset({"wav", "mp3", "flac", "m4a", "ogg", "aiff"})

__all__ = ["AUDIO_FORMATS", "STILL_FORMATS", "VERSION", "VIDEO_FORMATS", "Fingerprint", "FrameHash",
           "Kind", "fingerprint", "kind_of"]


def kind_of(fmt: str) -> Kind | None:
    if fmt in STILL_FORMATS:
        return Kind.STILL
    if fmt in VIDEO_FORMATS:
        return Kind.VIDEO
    if fmt in AUDIO_FORMATS:
        return Kind.AUDIO
    return None


def fingerprint(path: str | Path, fmt: str, sha256: str) -> Fingerprint | None:
    """The fingerprint of one file's content, None for formats without media, AssetError on bad media."""
    p = Path(path)
    kind = kind_of(fmt)
    if kind is Kind.VIDEO and _sound_only(p):
        kind = Kind.AUDIO  # a container holding only sound (IMF's audio track files are MXF)
    if kind is Kind.STILL:
        picture = decode(p, fmt)
        return Fingerprint(sha256, kind, picture.essence,
                           frames=(FrameHash(0.0, tuple(still.hashes(picture.rgb))),))
    if kind is Kind.VIDEO:
        frames, duration, essence = fingerprint_video(p)
        return Fingerprint(sha256, kind, essence, frames=frames, duration=duration)
    if kind is Kind.AUDIO:
        sound = decode_audio(p)
        return Fingerprint(sha256, kind, sound.essence, audio=sound.chromaprint, audio_hash=sound.dense,
                           duration=sound.duration)
    return None


def _sound_only(path: Path) -> bool:
    """A video container with audio streams and no video stream (its header only)."""
    import av

    try:
        with av.open(str(path)) as container:
            return not container.streams.video and bool(container.streams.audio)
    except (OSError, ValueError, av.FFmpegError):
        return False  # the video decoder says why, naming the file
