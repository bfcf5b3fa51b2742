"""`provenance readers`: the evidence readers available (built-in and plug-ins)."""

from __future__ import annotations

import click

from provenance.cli.output import emit
from provenance.evidence.registry import DEFAULT_READERS, available


@click.command("readers")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array.")
def command(as_json: bool) -> None:
    """List registered evidence readers (entry-point group `provenance.readers`)."""
    rows = [{"name": name, "target": target, "default": name in DEFAULT_READERS}
            for name, target in sorted(available().items())]
    if as_json:
        emit("readers", {"readers": rows})
        return
    for row in rows:
        click.echo(f"{row['name']:<12} {row['target']}{'  (default)' if row['default'] else ''}")
