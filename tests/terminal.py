"""Running a real command with its stderr on a real terminal (a pty) and its stdout on a pipe:
what progress bars are for, and what must never reach stdout."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class TerminalRun:
    returncode: int
    stdout: bytes  # the pipe
    terminal: bytes  # everything written to the terminal (stderr)


def stderr_on_a_terminal(argv: Sequence[str | os.PathLike[str]], env: dict[str, str],
                         timeout: float = 120) -> TerminalRun:
    """Run `argv` with stderr on a pty, reading the pty and stdout together until both close
    (a child blocked on a full stdout pipe would never close its terminal), then wait for it.
    Fails the test when `timeout` seconds pass first."""
    leader, follower = pty.openpty()
    try:
        proc = subprocess.Popen(list(map(os.fspath, argv)), stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=follower, env=env)
    finally:
        os.close(follower)
    assert proc.stdout is not None
    out = proc.stdout.fileno()
    read: dict[int, bytearray] = {leader: bytearray(), out: bytearray()}
    open_ends = {leader, out}
    deadline = time.monotonic() + timeout
    try:
        while open_ends:
            ready, _, _ = select.select(list(open_ends), [], [], max(deadline - time.monotonic(), 0))
            if not ready:
                raise AssertionError(f"{os.fspath(argv[0])} still running after {timeout} s")
            for fd in ready:
                try:
                    chunk = os.read(fd, 65536)
                except OSError:  # EIO: the child closed its end of the terminal
                    chunk = b""
                read[fd] += chunk
                if not chunk:
                    open_ends.discard(fd)
        returncode = proc.wait(timeout=max(deadline - time.monotonic(), 1))
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
        os.close(leader)
    return TerminalRun(returncode, bytes(read[out]), bytes(read[leader]))
