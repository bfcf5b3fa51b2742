"""`provenance service unit`: the systemd unit for one show's watch daemon, filled in.

Rendered from the one template (templates/provenance-watch.service.j2; the example in
contrib/systemd/ is that template rendered for /srv/shows/myshow, and a test keeps it so), with
this installation's own `provenance` in ExecStart, so a pip-installed tool needs no copying or
hand-editing. Paths systemd would read differently (spaces, quotes, `%` specifiers, control
characters) are refused rather than escaped.
"""

from __future__ import annotations

import re
from pathlib import Path

import click
from jinja2 import Environment, PackageLoader, StrictUndefined

from provenance._os import write_atomic
from provenance.cli.commands.hook import this_provenance
from provenance.cli.options import json_option
from provenance.cli.output import emit
from provenance.config import load_config
from provenance.errors import ConfigError

_PLAIN = re.compile(r"[A-Za-z0-9/._+@:=,-]+")


def _plain(what: str, value: str) -> str:
    if not _PLAIN.fullmatch(value):
        raise ConfigError(f"{what} {value!r} has characters a systemd unit would read differently "
                          "(spaces, quotes, %, control characters): use a plain path or name")
    return value


def render_unit(config_file: Path, show: Path, exe: str, user: str, group: str, name: str) -> str:
    env = Environment(loader=PackageLoader("provenance", "templates"), undefined=StrictUndefined,
                      keep_trailing_newline=True, autoescape=False)
    return env.get_template("provenance-watch.service.j2").render(
        config=_plain("config", str(config_file)), show=_plain("show folder", str(show)),
        exe=_plain("provenance executable", exe), user=_plain("user", user),
        group=_plain("group", group), name=_plain("unit name", name))


@click.group("service")
def command() -> None:
    """Run provenance as a system service."""


@command.command("unit")
@click.option("--config", "config_file", type=click.Path(dir_okay=False, path_type=Path),
              help="The show's provenance.toml (default: search upward).")
@click.option("--user", default="provenance", show_default=True, help="User the daemon runs as.")
@click.option("--group", default=None, help="Its group (default: same as --user).")
@click.option("--name", default="provenance-watch", show_default=True, help="Unit name (for the comments).")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the unit here (atomically) instead of to stdout.")
@json_option
def unit(config_file: Path | None, user: str, group: str | None, name: str, out: Path | None,
         as_json: bool) -> None:
    """The watch daemon's systemd unit for this show (Type=notify, watchdog, state on local disk)."""
    config = load_config(config_file)
    if config.file is None:
        raise ConfigError("no provenance.toml found: a unit watches one show (pass --config FILE)")
    text = render_unit(config.file, config.base_dir, this_provenance(), user, group or user, name)
    if out is not None:
        write_atomic(out, text.encode("utf-8"))
    if as_json:
        emit("service-unit", {"unit": text, "file": None if out is None else str(out)})
    elif out is None:
        click.echo(text, nl=False)
    else:
        click.echo(f"wrote {out}")
