"""Small operating-system helpers shared by unrelated parts (tagging, keys, config, status,
and every read of a file in the show tree: `open_regular`, `read_bounded`)."""

from __future__ import annotations

import errno
import io
import os
import re
import secrets
import socket
import stat
from pathlib import Path

# Our temporary files: `.provenance-tmp-<host>.<pid>.<token><ext>`. The watch daemon ignores the
# prefix; `tagging.atomic.clean_stale_temps` removes those whose process is gone.
TMP_PREFIX = ".provenance-tmp-"


def host_tag() -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "_", socket.gethostname())[:32] or "host"


def temp_path(beside: Path, ext: str = "") -> Path:
    """A fresh temp name in `beside`'s folder (the name itself is never created here)."""
    return beside.parent / f"{TMP_PREFIX}{host_tag()}.{os.getpid()}.{secrets.token_hex(6)}{ext}"


def pid_alive(pid: int) -> bool:
    """Is a process with this id running on this host (ours or someone else's)?"""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by someone else
    return True


def make_dirs(path: Path, mode: int = 0o755) -> None:
    """`mkdir -p path`, each folder it creates at most `mode`. `Path.mkdir(parents=True)` makes
    the parents with the umask alone, and a umask of 002 (a user-private-group default) leaves
    them group-writable: the gate then refuses what they hold (`check_protected`)."""
    missing = []
    while not os.path.lexists(path):
        missing.append(path)
        path = path.parent
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=mode)
        except FileExistsError:  # made at the same moment by another process: theirs stands
            continue


def write_atomic(path: Path, data: bytes, mode: int = 0o644) -> None:
    """Write `data` to `path` without ever leaving it half-written.

    A temporary file in the same folder (`temp_path`, which the watch daemon ignores) is
    created with `mode` (0600 for secrets: never world-readable, not even briefly),
    written, fsynced and renamed over `path`; on any failure it is removed.
    """
    tmp = stage_atomic(path, data, mode)
    try:
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def stage_atomic(path: Path, data: bytes, mode: int = 0o644) -> Path:
    """The first half of `write_atomic`: `data` written and fsynced to a temporary file beside
    `path`, returned for the caller to `os.replace` into place (or unlink) once everything
    that must land together is staged (the gate: its reports, then its ledger record)."""
    tmp = temp_path(path)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return tmp


class NotRegularFile(OSError):
    """A path that is a FIFO, socket, device node or folder where a regular file was expected."""

    def __init__(self, path: str | os.PathLike[str], mode: int) -> None:
        super().__init__(errno.EINVAL, f"not a regular file ({file_kind(mode)})", os.fspath(path))
        self.kind = file_kind(mode)


_KINDS = ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a FIFO"), (stat.S_ISSOCK, "a socket"),
          (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"))


def file_kind(mode: int) -> str:
    """What a stat mode is, in words ("a FIFO"), for messages."""
    return next((name for test, name in _KINDS if test(mode)), "a regular file" if stat.S_ISREG(mode)
                else "not a file")


def open_regular(path: str | os.PathLike[str], checked: os.stat_result | None = None) -> io.BufferedReader:
    """Open a regular file for reading, or raise: never blocks on a FIFO, never opens a device.

    Anyone who can write the show folder can put a FIFO where a sidecar, an approval or an
    asset is expected; a plain `open()` of it waits for a writer forever. So: refuse what
    `stat` says is not a regular file without opening it (opening some devices has side
    effects), then open with O_NONBLOCK and check again on the descriptor (the name may have
    been swapped in between). Symlinks are followed, as a reader of the target would.
    `checked`: the caller's own `os.stat(path)`, just taken (one stat fewer per file).
    """
    before = checked if checked is not None else os.stat(path)
    if not stat.S_ISREG(before.st_mode):
        raise NotRegularFile(path, before.st_mode)
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise NotRegularFile(path, mode)
        os.set_blocking(fd, True)  # a regular file: ordinary reads from here on
        return open(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_regular(path: str | os.PathLike[str], limit: int | None = None) -> bytes:
    """The bytes of a regular file (at most `limit`), through `open_regular`."""
    with open_regular(path) as fh:
        return fh.read() if limit is None else fh.read(limit)


class TooLarge(OSError):
    """A file longer than its reader accepts."""

    def __init__(self, path: str | os.PathLike[str], limit: int) -> None:
        size = f"{limit >> 20} MiB" if limit and limit % (1 << 20) == 0 else f"{limit:,} bytes"
        super().__init__(errno.EFBIG, f"larger than {size}", os.fspath(path))
        self.limit = limit


def read_bounded(path: str | os.PathLike[str], limit: int) -> bytes:
    """All the bytes of a regular file of at most `limit` bytes (through `open_regular`), or
    TooLarge, having read one byte past the bound and no more: a document from the show tree
    (a CPL, an edit) is parsed whole, and its writer must not choose how much memory that takes."""
    data = read_regular(path, limit + 1)
    if len(data) > limit:
        raise TooLarge(path, limit)
    return data
