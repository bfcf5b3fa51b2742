"""`provenance findings [--json]`: the open findings in the ledger, and what would clear each."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import click

from provenance.cli.options import config_option, json_option
from provenance.config import load_config
from provenance.model import Finding


def clears_text(f: Finding) -> str:
    if not f.clears_with:
        return "no approval: see the message (remove, replace or vet the tool)"
    return "approval with scope " + " or ".join(str(s) for s in f.clears_with)


def findings_table(findings: Sequence[Finding]) -> None:
    from rich.console import Console
    from rich.table import Table

    from provenance.pathtext import shown

    table = Table()
    for title in ("path", "sha256", "class", "rule", "principle", "would clear it"):
        table.add_column(title, overflow="fold")
    for f in findings:
        style = "bold red" if f.blocking else "yellow"
        table.add_row(shown(f.path), (f.sha256 or "")[:12], str(f.classification),
                      f"[{style}]{f.rule}[/]", f.principle, clears_text(f))
    console = Console()
    if not console.is_terminal:
        console = Console(width=200)
    console.print(table)


@click.command("findings")
@config_option
@json_option
def command(config_path: Path | None, as_json: bool) -> None:
    """List open findings: path, sha256, classification, principle, what would clear it."""
    from provenance.ledger import Ledger

    config = load_config(config_path)
    # A ledger that is missing, corrupt or unreachable raises LedgerError (exit 3, with the
    # reason): "no open findings" must only ever mean a ledger that was read and holds none.
    with Ledger.open(config.effective_ledger_url, create=False) as ledger:
        found = ledger.open_findings()
    if as_json:
        click.echo(json.dumps([{**f.to_dict(), "clears_with_text": clears_text(f)} for f in found], indent=2))
    elif not found:
        click.echo("no open findings")
    else:
        findings_table(found)
        click.echo(f"{len(found)} open ({sum(f.blocking for f in found)} blocking)")
