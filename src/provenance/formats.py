"""The one table of media formats: what each sniffed format is called, its MIME type, the
extensions it is delivered under, and what our tools can do with it.

`identify.sniff_format` names a file's format from its content; everything else that needs
to know something about a format (c2pa's MIME key, whether ExifTool can write XMP into it,
whether a tag must go to a sidecar, how to decode it for a thumbnail or an essence hash,
which extensions are expected for it, which can be frames of an image sequence) reads this
table instead of keeping its own list.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType


@dataclass(frozen=True)
class Format:
    name: str  # as `identify.sniff_format` names it
    mime: str | None = None  # what c2pa-python and ExifTool key on
    extensions: frozenset[str] = frozenset()  # delivered as (lower case, no dot)
    pillow: bool = False  # Pillow decodes it (thumbnails, the essence hash of stills)
    ffmpeg_thumb: bool = False  # a thumbnail comes from ffmpeg
    stream: bool = False  # its essence hash is ffmpeg's hash of the decoded streams
    xmp_writable: bool = False  # ExifTool 12.57 writes XMP into it (research/markers.md)
    sidecar_only: bool = False  # neither ExifTool nor c2pa can embed into it: tags go beside it
    frame: bool = False  # can be a frame of an image sequence


def _f(name: str, mime: str | None, extensions: str = "", **flags: bool) -> Format:
    return Format(name, mime, frozenset(extensions.split()), **flags)


FORMATS: tuple[Format, ...] = (
    _f("jpeg", "image/jpeg", "jpg jpeg jpe", pillow=True, xmp_writable=True, frame=True),
    _f("png", "image/png", "png", pillow=True, xmp_writable=True, frame=True),
    _f("gif", "image/gif", "gif", pillow=True, xmp_writable=True),
    _f("webp", "image/webp", "webp", pillow=True, xmp_writable=True, frame=True),
    _f("tiff", "image/tiff", "tif tiff dng", pillow=True, xmp_writable=True, frame=True),
    _f("bmp", None, "bmp", pillow=True, frame=True),
    _f("heic", "image/heic", "heic", ffmpeg_thumb=True, xmp_writable=True),
    _f("heif", "image/heif", "heif", xmp_writable=True),
    _f("avif", "image/avif", "avif", ffmpeg_thumb=True, xmp_writable=True),
    _f("jxl", "image/jxl", "jxl"),
    _f("svg", "image/svg+xml", "svg"),
    _f("psd", None, "psd psb", sidecar_only=True),
    _f("exr", "image/x-exr", "exr", ffmpeg_thumb=True, sidecar_only=True, frame=True),
    _f("dpx", "image/x-dpx", "dpx", ffmpeg_thumb=True, sidecar_only=True, frame=True),
    _f("mp4", "video/mp4", "mp4 m4v", ffmpeg_thumb=True, stream=True, xmp_writable=True),
    _f("mov", "video/quicktime", "mov qt mp4", ffmpeg_thumb=True, stream=True, xmp_writable=True),
    _f("m4a", "audio/mp4", "m4a m4b", stream=True, xmp_writable=True),
    _f("avi", "video/x-msvideo", "avi", ffmpeg_thumb=True, stream=True),
    _f("mxf", "application/mxf", "mxf", ffmpeg_thumb=True, sidecar_only=True),
    _f("mkv", "video/x-matroska", "mkv", ffmpeg_thumb=True, sidecar_only=True),
    _f("webm", "video/webm", "webm", ffmpeg_thumb=True, sidecar_only=True),
    _f("wav", "audio/wav", "wav bwf", stream=True),
    _f("mp3", "audio/mpeg", "mp3", stream=True),
    _f("flac", "audio/flac", "flac", stream=True),
    _f("ogg", None, "ogg oga ogv opus", sidecar_only=True),
    _f("aiff", None, "aif aiff aifc", sidecar_only=True),
    _f("pdf", "application/pdf", "pdf", xmp_writable=True),
    _f("cr3", None, "cr3"),
    # Frame formats no sniffer names (they read as "unknown"), listed for image sequences.
    _f("cin", None, "cin", frame=True),
    _f("tga", None, "tga", frame=True),
    _f("hdr", None, "hdr", frame=True),
    _f("sgi", None, "sgi rgb", frame=True),
    _f("jp2", None, "jp2", frame=True),
)

BY_NAME: MappingProxyType[str, Format] = MappingProxyType({f.name: f for f in FORMATS})

# Views of the table, for the callers that ask one question of it.
MIME_TYPES: MappingProxyType[str, str] = MappingProxyType(
    {f.name: f.mime for f in FORMATS if f.mime})
EXTENSIONS: MappingProxyType[str, frozenset[str]] = MappingProxyType(
    {f.name: f.extensions for f in FORMATS})
PILLOW_FORMATS = frozenset(f.name for f in FORMATS if f.pillow)
FFMPEG_THUMB_FORMATS = frozenset(f.name for f in FORMATS if f.ffmpeg_thumb)
STREAM_FORMATS = frozenset(f.name for f in FORMATS if f.stream)
XMP_WRITABLE = frozenset(f.name for f in FORMATS if f.xmp_writable)
SIDECAR_FORMATS = frozenset(f.name for f in FORMATS if f.sidecar_only)
FRAME_FORMATS = frozenset(f.name for f in FORMATS if f.frame)
FRAME_EXTENSIONS = frozenset(e for f in FORMATS if f.frame for e in f.extensions)


def mime_of(fmt: str) -> str | None:
    return MIME_TYPES.get(fmt)


def expected_extensions(fmt: str) -> frozenset[str] | None:
    """The extensions `fmt` is normally delivered under, or None when the table has no opinion."""
    row = BY_NAME.get(fmt)
    return row.extensions if row is not None and row.extensions else None
