"""Write a file without ever half-writing it: temp in the same folder → verify → fsync → rename.

Temporary files are named `.provenance-tmp-<host>.<pid>.<token><ext>` so that
- the watch daemon ignores them (`.provenance-tmp-*` is in config.DEFAULT_IGNORE),
- a later run can tell which are stale: SIGKILL cannot be caught, so a killed tagger
  leaves its temp behind; `clean_stale_temps` removes temps whose process is gone,
- the extension is kept, because ExifTool and c2pa pick the writer from it.

The rename is the only step that touches the original's name, and it is atomic on
POSIX filesystems: a reader sees the old bytes or the new bytes, never a mix.
"""

from __future__ import annotations

import contextlib
import os
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from provenance._os import TMP_PREFIX, host_tag, pid_alive
from provenance._os import temp_path as os_temp_path
from provenance.errors import TagError
from provenance.identify import key_of

# A temp from another host can't be checked by pid; after this long it is surely dead.
FOREIGN_STALE_AFTER_S = 24 * 3600
_TMP_RE = re.compile(re.escape(TMP_PREFIX) + r"(?P<host>[A-Za-z0-9_-]{1,32})\.(?P<pid>\d+)\.")


def is_temp_name(name: str) -> bool:
    return name.startswith(TMP_PREFIX)


def temp_path(beside: Path, suffix: str | None = None) -> Path:
    """A fresh temp name beside `beside`, keeping a plain extension (ExifTool picks the
    writer by it)."""
    ext = beside.suffix if suffix is None else suffix
    ext = ext if re.fullmatch(r"\.[A-Za-z0-9]{1,8}", ext or "") else ""
    return os_temp_path(beside, ext.lower())


def clean_stale_temps(folder: Path) -> list[Path]:
    """Remove our own temps left by killed runs; return what was removed.

    A temp is stale when it was made on this host by a process that no longer exists,
    or on another host more than a day ago. A live tagger's temps are never touched.
    """
    removed: list[Path] = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    host, now = host_tag(), time.time()
    for entry in entries:
        m = _TMP_RE.match(entry.name)
        if not m or (not entry.is_file(follow_symlinks=False) and not entry.is_symlink()):
            continue
        pid = int(m["pid"])
        if m["host"] == host:
            stale = pid != os.getpid() and not pid_alive(pid)
        else:
            try:
                stale = now - entry.stat(follow_symlinks=False).st_mtime > FOREIGN_STALE_AFTER_S
            except OSError:
                continue
        if stale:
            with contextlib.suppress(OSError):
                os.unlink(entry.path)
                removed.append(Path(entry.path))
    return removed


def fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_dir(folder: Path) -> None:
    # A rename is durable only once the directory entry is on disk.
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def copy_mode(src_stat: os.stat_result, dst: Path) -> None:
    os.chmod(dst, src_stat.st_mode & 0o7777)
    # Keep the owner where we may (root, or already ours); a failure is not data loss.
    with contextlib.suppress(PermissionError):
        if (src_stat.st_uid, src_stat.st_gid) != (os.getuid(), os.getgid()):
            os.chown(dst, src_stat.st_uid, src_stat.st_gid)


@dataclass
class Workspace:
    """Temps made while tagging one file; every one is removed unless committed.

    Use as a context manager: on leaving, anything not renamed into place is unlinked,
    whatever went wrong (exceptions, KeyboardInterrupt).
    """

    target: Path
    temps: list[Path] = field(default_factory=list)

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.discard()

    def new(self, suffix: str | None = None) -> Path:
        p = temp_path(self.target, suffix)
        self.temps.append(p)
        return p

    def discard(self) -> None:
        for p in self.temps:
            with contextlib.suppress(FileNotFoundError):
                p.unlink()
            # ExifTool's own temp for a file it rewrites (`<name>_exiftool_tmp`).
            with contextlib.suppress(FileNotFoundError):
                p.with_name(p.name + "_exiftool_tmp").unlink()
        self.temps.clear()

    def commit(self, temp: Path, dest: Path, original: os.stat_result | None) -> None:
        """fsync `temp`, then rename it over `dest`, keeping `original`'s mode and owner.

        `original` is the stat taken before tagging began; if `dest` changed since
        (someone else is writing it), nothing is replaced.
        """
        if original is not None:
            copy_mode(original, temp)
            try:
                now = os.stat(dest)
            except FileNotFoundError:
                raise TagError("file disappeared while being tagged", dest) from None
            if key_of(now) != key_of(original):
                raise TagError("file changed while being tagged (is something still writing "
                               "it?); left untouched", dest)
        fsync_file(temp)
        os.replace(temp, dest)
        self.temps.remove(temp)
        fsync_dir(dest.parent)


@contextlib.contextmanager
def safe_alias(path: Path) -> Iterator[Path]:
    """`path` itself if ExifTool can be handed it, else a temp symlink to it.

    pyexiftool passes arguments one per line, so a newline in a file name would split it;
    undecodable bytes would not survive either. A symlink with our own plain name
    lets ExifTool read such a file without ever seeing the name.
    """
    text = os.fspath(path.absolute())
    try:
        text.encode("utf-8")
        plain = not any(ord(c) < 32 or ord(c) == 127 for c in text)
    except UnicodeEncodeError:
        plain = False
    if plain:
        yield path.absolute()
        return
    link = temp_path(path)
    os.symlink(path.absolute(), link)
    try:
        yield link
    finally:
        with contextlib.suppress(FileNotFoundError):
            link.unlink()
