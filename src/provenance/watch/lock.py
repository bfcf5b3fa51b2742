"""One watch daemon per show: an flock on this host, a PostgreSQL advisory lock across hosts.

On one host, an flock held on `<show state>/watch.lock`. The kernel drops an flock when its
holder dies (SIGKILL included), so a crashed daemon never leaves a lock behind that needs
cleaning up. The holder writes who it is (pid, host, since) into the locked file; a second
daemon reads that to say who is already watching.

That file is on this host's disk, so a daemon on another host never sees it. With a
PostgreSQL ledger (the multi-host setup) the daemon also takes a session-level advisory lock
keyed by the show (its provenance.toml's real path: hosts that mount the show at the same
path collide), on a connection it keeps for its lifetime; the server drops it when that
session ends, however the daemon ends. The holder's session carries its name
(`application_name`), so the second daemon can say who holds it. SQLite needs no more: its
ledger is on one host's disk, where the flock already holds.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from sqlalchemy import text

from provenance.errors import LedgerError, ProvenanceError

if TYPE_CHECKING:
    from provenance.ledger import Ledger

LOCK_NAME = "watch.lock"


class AlreadyWatched(ProvenanceError):
    """Another daemon holds this show's lock."""


class DaemonLock:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def acquire(self) -> None:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _holder(fd)
            os.close(fd)
            raise AlreadyWatched(f"another watch daemon already runs for this show ({holder}); "
                                 "stop it first", self.path) from None
        except BaseException:
            os.close(fd)
            raise
        since = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        me = json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "since": since}) + "\n"
        os.ftruncate(fd, 0)
        os.pwrite(fd, me.encode(), 0)
        os.fsync(fd)
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            os.ftruncate(self._fd, 0)  # nobody holds it now; the next holder writes itself
            os.close(self._fd)  # closing drops the flock
            self._fd = None

    def __enter__(self) -> DaemonLock:
        self.acquire()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.release()


def _holder(fd: int) -> str:
    try:
        doc = json.loads(os.pread(fd, 4096, 0) or b"{}")
        return f"pid {int(doc['pid'])} on {doc['host']} since {doc['since']}"
    except (OSError, ValueError, KeyError, TypeError):
        return "holder unknown: it has not written its name yet"


def advisory_key(show: Path) -> int:
    """The show's advisory-lock key: a signed 64-bit number from its real path."""
    digest = hashlib.sha256(b"provenance watch\0" + os.fsencode(show)).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


_HOLDER = text(
    "SELECT a.application_name, a.client_addr, a.backend_start FROM pg_locks l "
    "JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'advisory' AND l.granted "
    "AND l.classid = :hi AND l.objid = :lo AND l.objsubid = 1")


@contextmanager
def ledger_lock(ledger: Ledger, show: Path) -> Iterator[None]:
    """Hold the show's advisory lock on a PostgreSQL ledger while the daemon runs
    (AlreadyWatched naming the holder if another daemon, on any host, has it)."""
    if ledger.backend != "postgresql":
        yield
        return
    from sqlalchemy import exc

    key = advisory_key(show)
    since = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    me = f"provenance watch pid {os.getpid()} on {socket.gethostname()} since {since}"[:63]
    try:
        conn = ledger.engine.connect()
    except exc.SQLAlchemyError as e:
        why = str(getattr(e, "orig", None) or e).strip().splitlines()[0]
        raise LedgerError(f"cannot reach the ledger for the show's lock ({ledger.url}): {why}") from None
    try:
        conn.execute(text("SELECT set_config('application_name', :me, false)"), {"me": me})
        got = conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar()
        conn.commit()  # session-level: the lock outlives this transaction
        if not got:
            unsigned = key & 0xFFFFFFFFFFFFFFFF
            row = conn.execute(_HOLDER, {"hi": unsigned >> 32, "lo": unsigned & 0xFFFFFFFF}).first()
            conn.rollback()
            holder = (f"{row.application_name or 'a session'} (connected from {row.client_addr or 'local'} "
                      f"at {row.backend_start:%Y-%m-%dT%H:%M:%SZ})" if row is not None else "holder unknown")
            raise AlreadyWatched(f"another watch daemon already runs for this show on the shared "
                                 f"ledger {ledger.url}: {holder}; stop it first", show)
        yield
    finally:
        # Close the server session itself: a connection merely returned to the pool would keep
        # the lock held (the pool's reset is a rollback, not an unlock).
        conn.invalidate()
        conn.close()
