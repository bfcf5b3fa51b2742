"""Small operating-system facts shared by unrelated parts (tagging, the daemon's status)."""

from __future__ import annotations

import os


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
