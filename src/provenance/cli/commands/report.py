"""`provenance report --disclosure [--csv|--json|--html]`: the show's GenAI disclosure."""

from __future__ import annotations

import json
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from provenance.cli.options import trust_option
from provenance.config import load_config
from provenance.ledger import Ledger
from provenance.report.disclosure import CSV_COLUMNS, disclosure_rows, entries, to_csv, to_html, to_json

_EPILOG = "\b\nCSV columns (one row per asset; a sequence's frames each have a row):\n" + "\n".join(
    f"  {name:17} {text}" for name, text in CSV_COLUMNS.items())


@click.command("report", epilog=_EPILOG)
@click.option("--disclosure", is_flag=True, required=True,
              help="Every GenAI asset with tool, purpose, declared risks and approval state.")
@click.option("--csv", "fmt", flag_value="csv", help="CSV output.")
@click.option("--json", "fmt", flag_value="json", help="JSON output (provenance.disclosure/v1).")
@click.option("--html", "fmt", flag_value="html", help="Self-contained HTML output.")
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), help="Write to FILE.")
@trust_option
@click.option("--config", "config_path", type=click.Path(path_type=Path), default=None,
              help="provenance.toml to use (default: search upward from the current folder).")
def command(disclosure: bool, fmt: str | None, out: Path | None, config_path: Path | None) -> None:
    """What a production sends its studio contact: the show's generative-AI assets."""
    config = load_config(config_path)
    # Never create one here: a disclosure from a ledger that is gone would list nothing.
    with Ledger.open(config.effective_ledger_url, create=False) as ledger:
        rows = disclosure_rows(ledger, config)
    if fmt is None and out is None:
        table = Table("asset", "class", "tool", "purpose", "risks", "approval state")
        for e in entries(rows):  # sequences collapsed, pending first
            r = e.items[0]
            table.add_row(e.name if e.is_sequence else "\n".join(r.paths) or r.sha256[:12], r.classification,
                          r.tool or "—", r.purpose or "—", ", ".join(r.risks) or "none", r.state)
        Console().print(table)
        return
    text = {"csv": lambda: to_csv(rows), "html": lambda: to_html(rows, config)}.get(
        fmt or "json", lambda: json.dumps(to_json(rows, config), indent=2) + "\n")()
    if out is not None:
        out.write_text(text, encoding="utf-8")
    else:
        click.echo(text, nl=False)
