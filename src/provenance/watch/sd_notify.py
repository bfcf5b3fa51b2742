"""systemd's notify protocol (sd_notify(3)): one datagram of `KEY=value` lines to $NOTIFY_SOCKET.

`Type=notify` units wait for READY=1 before counting the daemon as started; with
`WatchdogSec=` systemd kills and restarts a daemon that stops sending WATCHDOG=1 within that
time ($WATCHDOG_USEC). Outside systemd ($NOTIFY_SOCKET unset) every call does nothing.
The protocol is small enough to write here rather than depend on a library for it.
"""

from __future__ import annotations

import logging
import os
import socket

log = logging.getLogger(__name__)


def _address() -> str | None:
    path = os.environ.get("NOTIFY_SOCKET")
    if not path or not (path.startswith("/") or path.startswith("@")):
        return None
    return "\0" + path[1:] if path.startswith("@") else path  # '@': Linux abstract namespace


def notify(*lines: str) -> bool:
    """Send `lines` as one message; True if it was sent. Never raises: a lost notification
    must not stop the daemon (systemd then restarts it for a missing watchdog ping)."""
    address = _address()
    if address is None:
        return False
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
            sock.sendto("\n".join(lines).encode("utf-8"), address)
        return True
    except OSError as exc:
        log.warning("cannot notify systemd at %s: %s", os.environ.get("NOTIFY_SOCKET"), exc)
        return False


def watchdog_interval_s() -> float | None:
    """How often to ping (half the watchdog timeout, as sd_watchdog_enabled(3) advises), or None.

    $WATCHDOG_PID, when set, names the process the watchdog is meant for."""
    usec = os.environ.get("WATCHDOG_USEC")
    pid = os.environ.get("WATCHDOG_PID")
    if not usec or (pid and pid != str(os.getpid())):
        return None
    try:
        value = int(usec)
    except ValueError:
        return None
    return value / 2e6 if value > 0 else None
