"""The `provenance` command: a thin click shell over the library.

Each subcommand lives in its own module under `provenance.cli.commands` and exposes a
click command named `command`, called like its module; they are discovered here (and
imported only when used), so adding a command never means editing this file. `main` maps
errors to the exit-code contract in one place: ProvenanceError → its exit code, usage
errors → 2, Ctrl-C → 130, anything unexpected → 3 (never 0 or 1: a crash must not read
as "clear" or as an ordinary "blocked").
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import os
import pkgutil
import sys
import traceback
from typing import NoReturn

import click

from provenance import __version__
from provenance.cli import commands as _commands_pkg
from provenance.errors import EXIT_UNDECIDED, EXIT_USAGE, ProvenanceError


class _LazyGroup(click.Group):
    """Subcommands found by module name and imported only when run (or listed by --help):
    a hook calling `provenance gate` does not pay for importing the tagging and signing stack."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        # A module `verify_delivery` is the command `verify-delivery`.
        return sorted(info.name.replace("_", "-") for info in pkgutil.iter_modules(_commands_pkg.__path__)
                      if not info.name.startswith("_"))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.list_commands(ctx):
            return None
        module = importlib.import_module(f"{_commands_pkg.__name__}.{cmd_name.replace('-', '_')}")
        command: click.Command = module.command
        return command


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="provenance")
@click.option("-v", "--verbose", count=True, help="More log output (repeat for debug).")
def cli(verbose: int) -> None:
    """Track generative-AI provenance of media and gate deliveries on signed approvals."""
    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")


def main(argv: list[str] | None = None) -> int:
    try:
        result = cli.main(args=argv, prog_name="provenance", standalone_mode=False)
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except click.UsageError as exc:
        exc.show()
        return EXIT_USAGE
    except click.Abort:
        click.echo("Aborted.", err=True)
        return 130
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code if exc.exit_code not in (0, 1) else EXIT_UNDECIDED
    except ProvenanceError as exc:
        click.echo(f"error: {exc}", err=True)
        return exc.exit_code
    except KeyboardInterrupt:
        click.echo("Interrupted.", err=True)
        return 130
    except BrokenPipeError:
        return EXIT_UNDECIDED
    except Exception:  # the firewall: an unexpected crash is "could not decide"
        click.echo("internal error (exit 3: could not decide):", err=True)
        traceback.print_exc(file=sys.stderr)
        return EXIT_UNDECIDED
    return int(result) if isinstance(result, int) else 0


def run() -> NoReturn:
    """The `provenance` program (console script and `python -m provenance`): `main`, then exit.

    A reader that overran its time limit was abandoned on a daemon thread; its answer is
    already part of the report (undecided). Once the report is out and flushed, the process
    ends at once even if such a thread, or an exit hook of the library it is stuck in, would
    wait on it: a hook in front of a transfer must get its exit code, not hang.
    """
    code = main()
    pipeline = sys.modules.get("provenance.pipeline")
    if pipeline is not None and pipeline.abandoned_readers():
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(OSError, ValueError):  # a closed pipe: nothing left to flush
                stream.flush()
        logging.shutdown()
        os._exit(code)
    sys.exit(code)
