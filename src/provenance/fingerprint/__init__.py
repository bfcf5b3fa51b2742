"""Content fingerprints: what an asset looks and sounds like, so a re-saved copy is recognised.

`fingerprint(path, format, sha256)` picks the media kind from the sniffed format:
stills (display-referred picture hashes with crop variants, essence of the decoded
pixels), video (sampled frames with times, essence of the packets, and the audio prints of
its sound) and audio (chromaprint, the dense audio hash, essence of the decoded samples).
Formats that hold no picture or sound return None.
"""

from __future__ import annotations

from pathlib import Path

from provenance.errors import AssetError
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
    has_video, has_audio = _streams(p) if kind is Kind.VIDEO else (True, False)
    if kind is Kind.VIDEO and not has_video and has_audio:
        kind = Kind.AUDIO  # a container holding only sound (IMF's audio track files are MXF)
    if kind is Kind.STILL:
        picture = decode(p, fmt)
        return Fingerprint(sha256, kind, picture.essence,
                           frames=(FrameHash(0.0, tuple(still.hashes(picture.rgb))),))
    if kind is Kind.VIDEO:
        frames, duration, essence = fingerprint_video(p)
        if not has_audio:
            return Fingerprint(sha256, kind, essence, frames=frames, duration=duration)
        # A video's sound too: an AI clip's soundtrack exported as an MP3 is its derivative, and
        # so is real footage with an AI sound laid under it. A sound that will not decode leaves
        # the pictures' fingerprint, with a note (the pictures are what the file mostly is).
        try:
            sound = decode_audio(p)
        except AssetError as exc:
            return Fingerprint(sha256, kind, essence, frames=frames, duration=duration,
                               notes=(f"no audio fingerprint: {exc.reason}",))
        return Fingerprint(sha256, kind, essence, frames=frames, audio=sound.chromaprint,
                           audio_hash=sound.dense, duration=duration)
    if kind is Kind.AUDIO:
        sound = decode_audio(p)
        return Fingerprint(sha256, kind, sound.essence, audio=sound.chromaprint, audio_hash=sound.dense,
                           duration=sound.duration)
    return None


def _streams(path: Path) -> tuple[bool, bool]:
    """(has a video stream, has an audio stream), from the container's header only."""
    import av

    try:
        with av.open(str(path)) as container:
            return bool(container.streams.video), bool(container.streams.audio)
    except (OSError, ValueError, av.FFmpegError):
        return True, False  # the video decoder says why, naming the file
