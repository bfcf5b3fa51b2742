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
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from provenance.evidence._unpack import Budget, ContainerError, Member, printable

# Formats ffmpeg can carry pictures or attachments in.
AV_FORMATS = frozenset({"mp4", "mov", "m4a", "mkv", "webm", "mp3", "flac", "ogg", "aiff"})


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
