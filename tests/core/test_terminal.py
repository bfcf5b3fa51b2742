"""The shared helper `tests.terminal.stderr_on_a_terminal` that the progress-bar tests stand on."""

from __future__ import annotations

import os
import sys

from tests.terminal import stderr_on_a_terminal

CHILD = ("import sys\n"
         "sys.stderr.write(f'terminal={sys.stderr.isatty()} pipe={sys.stdout.isatty()}\\n')\n"
         "sys.stdout.write('x' * 1_000_000)\n"  # far more than a pipe holds: read while it runs
         "sys.stdout.flush()\n"
         "sys.stderr.write('done')\n"
         "sys.exit(4)\n")


def test_stderr_is_a_terminal_stdout_a_pipe_and_both_are_read_to_the_end() -> None:
    run = stderr_on_a_terminal([sys.executable, "-c", CHILD], env=dict(os.environ), timeout=60)
    assert run.returncode == 4
    assert b"terminal=True pipe=False" in run.terminal and run.terminal.endswith(b"done")
    assert run.stdout == b"x" * 1_000_000
