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
from collections.abc import Callable
from typing import NoReturn

import click

from provenance import __version__
from provenance.cli import commands as _commands_pkg
from provenance.cli.output import emit_error, wants_json
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
    args = sys.argv[1:] if argv is None else argv
    as_json = wants_json(args)
    try:
        result = cli.main(args=args, prog_name="provenance", standalone_mode=False)
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except click.UsageError as exc:
        return _failed(exc.format_message(), "usage", EXIT_USAGE, as_json, exc.show)
    except click.Abort:
        return _failed("aborted", "interrupted", 130, as_json)
    except click.ClickException as exc:
        code = exc.exit_code if exc.exit_code not in (0, 1) else EXIT_UNDECIDED
        return _failed(exc.format_message(), "error", code, as_json, exc.show)
    except ProvenanceError as exc:
        return _failed(str(exc), type(exc).__name__, exc.exit_code, as_json, path=exc.path, reason=exc.reason)
    except KeyboardInterrupt:
        return _failed("interrupted", "interrupted", 130, as_json)
    except BrokenPipeError:
        return EXIT_UNDECIDED
    except Exception as exc:  # the firewall: an unexpected crash is "could not decide"
        click.echo("internal error (exit 3: could not decide):", err=True)
        traceback.print_exc(file=sys.stderr)
        if as_json:
            emit_error(f"internal error: {type(exc).__name__}: {exc}", "internal", EXIT_UNDECIDED)
        return EXIT_UNDECIDED
    return int(result) if isinstance(result, int) else 0


def _failed(message: str, kind: str, code: int, as_json: bool, show: Callable[[], None] | None = None,
            path: str | None = None, reason: str | None = None) -> int:
    """The one place an error becomes output and an exit code: the message on stderr (click's
    own form for its errors, with the usage line), and with `--json` the error document on
    stdout, so stdout is JSON whatever happened."""
    if show is not None:
        show()
    else:
        click.echo(f"error: {message}", err=True)
    if as_json:
        emit_error(reason if reason is not None else message, kind, code, path)
    return code


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
