"""Identify a file: stat it, sniff its format from content, hash its bytes.

The format comes from magic bytes, never the extension: an AI PNG renamed `.txt`
is still a PNG. Hashing streams the file once; callers that know the file is
unchanged (same dev/inode/size/mtime/ctime) pass the hash they already have.
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat
from collections.abc import Callable
from pathlib import Path

from provenance._os import NotRegularFile, file_kind, open_regular
from provenance.errors import AssetError
from provenance.formats import MIME_TYPES as MIME_TYPES
from provenance.model import Asset

HEAD_BYTES = 64
# Kept on the Asset (`Asset.prefix`): the metadata reader's text check needs 64 KiB + 1, and
# a file that fits is never opened again by the readers' header checks.
PREFIX_BYTES = 64 * 1024 + 1
_CHUNK = 1 << 20

# MIME_TYPES is re-exported for importers; the table lives in provenance.formats.

_FTYP_BRANDS: dict[bytes, str] = {
    b"qt  ": "mov",
    b"avif": "avif",
    b"avis": "avif",
    b"heic": "heic",
    b"heix": "heic",
    b"heim": "heic",
    b"heis": "heic",
    b"hevc": "heic",
    b"hevx": "heic",
    b"mif1": "heif",
    b"msf1": "heif",
    b"M4A ": "m4a",
    b"M4B ": "m4a",
    b"crx ": "cr3",
    b"jxl ": "jxl",
}

_MXF_KEY = bytes.fromhex("060e2b34020501010d010201")


def _sniff_ftyp(head: bytes) -> str:
    major = head[8:12]
    compatible = {head[i : i + 4] for i in range(16, min(len(head), 64) - 3, 4)}
    if major in (b"mif1", b"msf1") and (b"avif" in compatible or b"avis" in compatible):
        return "avif"
    if major in (b"mif1", b"msf1") and compatible & {b"heic", b"heix"}:
        return "heic"
    return _FTYP_BRANDS.get(major, "mp4")


def sniff_format(head: bytes) -> str:
    """Name the container from its first bytes; "unknown" when nothing matches."""
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if head.startswith(b"RIFF") and len(head) >= 12:
        return {b"WEBP": "webp", b"WAVE": "wav", b"AVI ": "avi"}.get(head[8:12], "unknown")
    if head.startswith(b"RF64") and head[8:12] == b"WAVE":
        return "wav"
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return "tiff"
    if head[4:8] == b"ftyp":
        return _sniff_ftyp(head)
    if head[4:8] in (b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot"):
        return "mov"
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"v/1\x01"):
        return "exr"
    if head[:4] in (b"SDPX", b"XPDS"):
        return "dpx"
    if head.startswith(_MXF_KEY):
        return "mxf"
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "webm" if b"webm" in head else "mkv"
    if head.startswith(b"fLaC"):
        return "flac"
    if head.startswith(b"ID3") or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0):
        return "mp3"
    if head.startswith(b"OggS"):
        return "ogg"
    if head.startswith(b"FORM") and head[8:12] in (b"AIFF", b"AIFC"):
        return "aiff"
    if head.startswith(b"8BPS"):
        return "psd"
    if head.startswith(b"\xff\x0a") or head.startswith(b"\x00\x00\x00\x0cJXL "):
        return "jxl"
    stripped = head.lstrip()
    if stripped.startswith(b"<svg") or (stripped.startswith(b"<?xml") and b"<svg" in head):
        return "svg"
    return "unknown"


StatKey = tuple[int, int, int, int, int]


def key_of(st: os.stat_result) -> StatKey:
    """(dev, inode, size, mtime_ns, ctime_ns): unchanged key ⇒ unchanged bytes (see Asset)."""
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def stat_key(path: str | os.PathLike[str]) -> StatKey | None:
    """The stat key of a regular file, or None if it is gone or not a regular file."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return key_of(st) if stat.S_ISREG(st.st_mode) else None


def sha256_file(path: Path) -> str:
    with open_regular(path) as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


KnownHash = Callable[[StatKey], str | None]


def _not_a_file(path: Path, st: os.stat_result, link_target: Path | None) -> str:
    """Why `path` is no asset, in words: a folder handed over by a walk is one it could not
    enter (or a symlink to a folder, which walks do not follow)."""
    if stat.S_ISDIR(st.st_mode):
        if link_target is not None:
            return "symlink to a folder (not followed: nothing inside it was judged)"
        try:
            os.scandir(path).close()
        except OSError as exc:
            return f"cannot read folder: {exc.strerror or exc} (nothing inside it was judged)"
        return "a folder, not a file (nothing inside it was judged)"
    return f"not a regular file ({file_kind(st.st_mode)})"


def identify(path: str | os.PathLike[str], known_hash: KnownHash | None = None) -> Asset:
    """Stat, sniff and hash one file, or raise AssetError naming the file and the reason.

    `known_hash(stat_key)` may return a hash recorded for exactly this dev/inode/size/
    mtime/ctime; then the bytes are not read again.
    """
    p = Path(path)
    link_target: Path | None = None
    try:
        st = os.lstat(p)
        if stat.S_ISLNK(st.st_mode):
            link_target = Path(os.path.realpath(p, strict=True))
            st = os.stat(p)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise AssetError("symlink loop", p) from None
        if exc.errno == errno.ENOENT:
            reason = "dangling symlink" if p.is_symlink() else "no such file"
            raise AssetError(reason, p) from None
        raise AssetError(f"cannot stat: {exc.strerror}", p) from None
    except RuntimeError:  # pathlib raises this for some loops
        raise AssetError("symlink loop", p) from None
    if not stat.S_ISREG(st.st_mode):
        raise AssetError(_not_a_file(p, st, link_target), p)
    try:
        # Opened without blocking, and checked again on the descriptor: the name may have
        # been swapped for a FIFO since the stat. A 0-byte file is judged like any other.
        with open_regular(p, st) as fh:
            st = os.fstat(fh.fileno())
            key = key_of(st)
            prefix = fh.read(PREFIX_BYTES)
            digest = known_hash(key) if known_hash else None
            if digest is None:  # one pass: the prefix, then the rest
                started = hashlib.sha256(prefix)
                digest = hashlib.file_digest(fh, lambda: started).hexdigest()
    except NotRegularFile as exc:
        raise AssetError(f"not a regular file ({exc.kind})", p) from None
    except PermissionError:
        raise AssetError("permission denied (no read permission)", p) from None
    except OSError as exc:
        raise AssetError(f"cannot read: {exc.strerror}", p) from None
    return Asset(
        path=p,
        format=sniff_format(prefix[:HEAD_BYTES]),
        size=st.st_size,
        dev=st.st_dev,
        inode=st.st_ino,
        mtime_ns=st.st_mtime_ns,
        ctime_ns=st.st_ctime_ns,
        sha256=digest,
        link_target=link_target,
        prefix=prefix,
    )
