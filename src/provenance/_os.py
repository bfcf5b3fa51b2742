"""Small operating-system helpers shared by unrelated parts (tagging, keys, config, status)."""

from __future__ import annotations

import os
import re
import secrets
import socket
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
