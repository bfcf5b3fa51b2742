"""`provenance ledger verify|info`: check the ledger's hash chain; show what it holds.

verify exits 0 when every event fits the chain, 1 when history was edited or deleted
(naming the first bad event), 3 when the ledger cannot be reached.
"""

from __future__ import annotations

import json
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from provenance.cli.options import config_option, json_option
from provenance.config import load_config
from provenance.errors import EXIT_BLOCKED
from provenance.ledger import Ledger


def _open(config_path: Path | None, url: str | None) -> Ledger:
    # Never create one here: an audit of a deleted ledger must fail, not verify an empty one.
    return Ledger.open(url or load_config(config_path).effective_ledger_url, create=False)


url_option = click.option("--url", default=None,
                          help="Ledger URL (sqlite:///… or postgresql+psycopg://…); default from config.")


@click.group("ledger")
def command() -> None:
    """The append-only, hash-chained ledger."""


@command.command("verify")
@json_option
@config_option
@url_option
@click.pass_context
def verify(ctx: click.Context, as_json: bool, config_path: Path | None, url: str | None) -> None:
    """Recompute the event hash chain: exit 1 if any history row was edited or deleted."""
    with _open(config_path, url) as ledger:
        report = ledger.verify()
        where = ledger.url
    if as_json:
        click.echo(json.dumps({**report.to_dict(), "ledger": where}, indent=2))
    elif report.ok:
        click.echo(f"ok: {report.rows} events verify ({where})")
    else:
        click.echo(f"TAMPERED: {report.reason} (first bad event: {report.first_bad}; "
                   f"{report.rows} events read; {where})", err=True)
    if not report.ok:
        ctx.exit(EXIT_BLOCKED)


@command.command("info")
@json_option
@config_option
@url_option
def info(as_json: bool, config_path: Path | None, url: str | None) -> None:
    """Backend, schema version and counts."""
    with _open(config_path, url) as ledger:
        stats = ledger.stats()
    if as_json:
        click.echo(json.dumps(stats, indent=2))
        return
    table = Table(title="ledger", show_header=False)
    for key, value in stats.items():
        table.add_row(key, "" if value is None else str(value))
    Console().print(table)
