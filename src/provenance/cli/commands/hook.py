"""`provenance hook NAME [ARGS...]`: run a delivery hook shipped inside the package.

The hooks (pre-handoff, rsync-gated) are bash scripts kept as package data, so a plain
`pip install` has them; `hooks/` in the repository only forwards here. The hook finds this
very `provenance` through $PROVENANCE (set here unless the caller set it), so a venv that is
not on PATH still gates with its own tool, and the hook's exit code is passed through.
"""

from __future__ import annotations

import os
import shutil
import sys
from importlib.resources import as_file, files

import click

HOOKS = ("pre-handoff", "rsync-gated")


def this_provenance() -> str:
    """The `provenance` executable running now (its console script), else the one on PATH."""
    beside = os.path.join(os.path.dirname(sys.executable), "provenance")
    if os.access(beside, os.X_OK):
        return beside
    return shutil.which("provenance") or beside


@click.command("hook", context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False})
@click.argument("name", type=click.Choice(HOOKS))
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def command(name: str, args: tuple[str, ...]) -> None:
    """Run a shipped delivery hook, e.g. `provenance hook pre-handoff SRC -- rsync …`."""
    bash = shutil.which("bash")
    if bash is None:
        raise click.ClickException("bash is needed to run the hooks and is not on PATH")
    env = {**os.environ, "PROVENANCE": os.environ.get("PROVENANCE") or this_provenance()}
    with as_file(files("provenance") / "data" / "hooks" / name) as script:
        # exec: the hook's exit code (0 sent, 1 blocked, 3 undecided) is the command's own
        os.execve(bash, [bash, str(script), *args], env)
