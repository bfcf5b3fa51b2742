"""Pictures and files carried inside audio/video files, taken out with ffprobe/ffmpeg.

ffmpeg presents every embedded picture the same way whatever the container: MP4/MOV/M4A
cover art (`covr`), Matroska image attachments, ID3 APIC frames in MP3, FLAC PICTURE blocks
are streams with the `attached_pic` disposition; other Matroska attachments (fonts, any
file) are `attachment` streams. The picture packets are copied out byte for byte (`-c copy
-f data`), attachments with `-dump_attachment`; both into files we name. What is extracted
is stored, not compressed, in the container, so it is bounded by the file's own size.
"""

from __future__ import annotations

import json
import os
import shutil
import struct
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from provenance.evidence._unpack import Budget, ContainerError, Member, printable

# Formats ffmpeg can carry pictures or attachments in.
AV_FORMATS = frozenset({"mp4", "mov", "m4a", "mkv", "webm", "mp3", "flac", "ogg", "aiff"})
_BMFF = frozenset({"mp4", "mov", "m4a"})
# Top-level boxes that hold media samples or padding, never the metadata ffmpeg takes cover art
# from (moov/udta/meta/ilst/covr, or a file-level meta): every other box is searched whole.
_BMFF_SAMPLES = frozenset({b"mdat", b"free", b"skip", b"wide"})
_MAX_HEADER_BYTES = 64 << 20
_MAX_BOXES = 100_000


def may_carry_pictures(path: Path, fmt: str) -> bool:
    """Header-only look: could ffmpeg find an embedded picture or attachment in this file?

    Spawning ffprobe costs ~100 ms; most videos carry nothing. For MP4/MOV/M4A (no `covr`
    anywhere outside the sample data), MP3 (no APIC frame in its leading ID3 tags, no APE tag
    at the end) and FLAC (no PICTURE block) the structure alone says no. Anything unusual,
    truncated or not fully parsed answers True and ffprobe looks: this may only skip.
    """
    try:
        # Non-blocking: a path swapped for a FIFO since identify must not hang the open.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        with os.fdopen(fd, "rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            if fmt in _BMFF:
                return _bmff_may(fh, size)
            if fmt == "mp3":
                return _id3_may(fh, size)
            if fmt == "flac":
                return _flac_may(fh)
    except (OSError, struct.error, ValueError):
        return True
    return True  # Matroska, Ogg, AIFF: ffprobe looks


def _bmff_may(fh: IO[bytes], size: int) -> bool:
    off, budget = 0, _MAX_HEADER_BYTES
    for _ in range(_MAX_BOXES):
        if off == size:
            return False
        fh.seek(off)
        header = fh.read(8)
        if len(header) < 8:
            return True
        box, kind = struct.unpack(">I4s", header)
        head_len = 8
        if box == 1:
            box, head_len = struct.unpack(">Q", fh.read(8))[0], 16
        elif box == 0:
            box = size - off
        if box < head_len or off + box > size:
            return True
        if kind not in _BMFF_SAMPLES:
            budget -= box - head_len
            if budget < 0 or b"covr" in fh.read(box - head_len):
                return True
        off += box
    return True


def _id3_may(fh: IO[bytes], size: int) -> bool:
    while True:
        header = fh.read(10)
        if not header.startswith(b"ID3"):
            break
        version, flags = header[3], header[5]
        body = sum((b & 0x7F) << (7 * (3 - i)) for i, b in enumerate(header[6:10]))
        frames = fh.read(body + (10 if flags & 0x10 else 0))
        if b"APIC" in frames or (version == 2 and b"PIC" in frames):
            return True
    if header.startswith(b"fLaC"):  # FLAC behind an ID3 tag: its own blocks decide
        fh.seek(-len(header) + 4, 1)
        return _flac_blocks_may(fh)
    if len(header) < 2 or header[0] != 0xFF or header[1] & 0xE0 != 0xE0:
        return True  # not an MPEG frame where one should start
    fh.seek(max(0, size - 64 * 1024))
    return b"APETAGEX" in fh.read()  # ffmpeg takes cover art from an APE tag too


def _flac_may(fh: IO[bytes]) -> bool:
    if fh.read(4) != b"fLaC":
        return True
    return _flac_blocks_may(fh)


def _flac_blocks_may(fh: IO[bytes]) -> bool:
    for _ in range(10_000):
        header = fh.read(4)
        if len(header) < 4:
            return True
        kind, length = header[0] & 0x7F, int.from_bytes(header[1:4], "big")
        if kind in (6, 127):  # PICTURE, or the invalid type
            return True
        if header[0] & 0x80:  # the last metadata block
            return False
        fh.seek(length, 1)
    return True


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise ContainerError(f"{name} is not installed: embedded pictures and attachments cannot be "
                             "looked for (install ffmpeg)")
    return found


def _run(args: list[str], timeout: float) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(args, capture_output=True, timeout=max(timeout, 1.0), check=False,
                              stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise ContainerError(f"{Path(args[0]).name} did not finish within {timeout:.0f}s") from None


def _streams(path: Path, timeout: float) -> list[dict[str, Any]]:
    # "file:" so a name starting with a protocol ("concat:", "http:") is only ever a file.
    done = _run([_tool("ffprobe"), "-v", "error", "-show_entries",
                 "stream=index,codec_type,codec_name:stream_disposition=attached_pic:stream_tags=filename",
                 "-of", "json", f"file:{path}"], timeout)
    if done.returncode != 0:
        why = done.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or ["unknown error"]
        raise ContainerError(f"ffprobe cannot open it to look for embedded pictures: {why[0]}")
    try:
        streams = json.loads(done.stdout).get("streams", [])
    except (ValueError, AttributeError):
        raise ContainerError("ffprobe's answer could not be read") from None
    return [s for s in streams if isinstance(s, dict) and isinstance(s.get("index"), int)]


def av_members(path: Path, into: Path, budget: Budget, timeout: float) -> Iterator[Member]:
    pictures: list[tuple[int, str]] = []
    attachments: list[tuple[int, str]] = []
    for s in _streams(path, timeout):
        tags = s.get("tags")
        filename = tags.get("filename") if isinstance(tags, dict) else None
        label = str(filename or f"picture in stream {s['index']} ({s.get('codec_name', '?')})")
        if s.get("codec_type") == "attachment":
            attachments.append((s["index"], label))
        elif (s.get("disposition") or {}).get("attached_pic") == 1:
            pictures.append((s["index"], label))
    if not pictures and not attachments:
        return
    args = [_tool("ffmpeg"), "-nostdin", "-v", "error", "-y"]
    wanted: list[tuple[str, Path]] = []
    for index, label in attachments:
        out = into / f"a{index:04d}"
        args += [f"-dump_attachment:{index}", str(out)]
        wanted.append((label, out))
    args += ["-i", f"file:{path}"]
    for index, label in pictures:
        out = into / f"p{index:04d}"
        args += ["-map", f"0:{index}", "-c", "copy", "-f", "data", f"file:{out}"]
        wanted.append((label, out))
    if not pictures:
        args += ["-t", "0", "-f", "null", "-"]  # ffmpeg wants an output even just to dump
    done = _run(args, timeout)
    for label, out in wanted:
        name = printable(label)
        budget.count_member(name)
        if done.returncode != 0 or not out.is_file():
            why = done.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or ["no output"]
            raise ContainerError(f"embedded {name} could not be extracted: {why[0]}")
        budget.written += out.stat().st_size
        if budget.written > budget.max_bytes:
            raise ContainerError(f"embedded {name}: over the limit of {budget.max_bytes} bytes")
        yield Member(name, out)
