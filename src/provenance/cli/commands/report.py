"""`provenance report --disclosure [--csv|--json|--html] [EDIT...]`: the show's GenAI disclosure,
or, given edit timelines, their shot disclosure maps (each edit judged as the gate judges it)."""

from __future__ import annotations

import json
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from provenance.cli.options import trust_option
from provenance.config import Config, load_config
from provenance.errors import EXIT_OK, EXIT_UNDECIDED
from provenance.ledger import Ledger
from provenance.report.disclosure import CSV_COLUMNS, disclosure_rows, entries, to_csv, to_html, to_json

_EPILOG = "\b\nCSV columns (one row per asset; a sequence's frames each have a row):\n" + "\n".join(
    f"  {name:17} {text}" for name, text in CSV_COLUMNS.items())


@click.command("report", epilog=_EPILOG)
@click.argument("edits", nargs=-1, type=click.Path(path_type=Path))
@click.option("--allow-missing", is_flag=True, help="With EDIT: clips whose media is not found are listed, "
              "not undecided.")
@click.option("--disclosure", is_flag=True, required=True,
              help="Every GenAI asset with tool, purpose, declared risks and approval state.")
@click.option("--csv", "fmt", flag_value="csv", help="CSV output.")
@click.option("--json", "fmt", flag_value="json", help="JSON output (provenance.disclosure/v1).")
@click.option("--html", "fmt", flag_value="html", help="Self-contained HTML output.")
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), help="Write to FILE.")
@trust_option
@click.option("--config", "config_path", type=click.Path(path_type=Path), default=None,
              help="provenance.toml to use (default: search upward from the current folder).")
def command(edits: tuple[Path, ...], allow_missing: bool, disclosure: bool, fmt: str | None, out: Path | None,
            config_path: Path | None) -> int:
    """What a production sends its studio contact: the show's generative-AI assets; with EDIT
    (a timeline), the AI shots of that edit by record timecode. Exit 3 when an edit's map
    could not be decided (unreadable edit or media, missing clips without --allow-missing)."""
    config = load_config(config_path)
    if edits:
        return _shot_maps(edits, config, fmt, out, allow_missing)
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
        return 0
    text = {"csv": lambda: to_csv(rows), "html": lambda: to_html(rows, config)}.get(
        fmt or "json", lambda: json.dumps(to_json(rows, config), indent=2) + "\n")()
    if out is not None:
        out.write_text(text, encoding="utf-8")
    else:
        click.echo(text, nl=False)
    return 0


def _shot_maps(edits: tuple[Path, ...], config: Config, fmt: str | None, out: Path | None,
               allow_missing: bool) -> int:
    """The gate's own judging of each edit (recording no decision), rendered as its map."""
    from provenance.approvals.outside import refuse_own_policy
    from provenance.gate import gate
    from provenance.report import shot_map
    from provenance.report.html import gate_html_bytes
    from provenance.timeline import is_timeline

    not_edits = [str(p) for p in edits if not is_timeline(p)]
    if not_edits:
        raise click.UsageError(f"not an edit timeline: {', '.join(not_edits)}")
    refuse_own_policy(config, list(edits))
    with Ledger.open(config.effective_ledger_url) as ledger:
        result = gate(list(edits), config, ledger, dry_run=True, allow_missing=allow_missing)
    render = {"csv": shot_map.shot_map_csv, "json": shot_map.shot_map_json, "html": gate_html_bytes}.get(
        fmt or "", shot_map.text_bytes)
    data = render(result)
    if out is not None:
        out.write_bytes(data)
    else:
        click.echo(data.decode("utf-8"), nl=False)
    return EXIT_UNDECIDED if result.result == "undecided" else EXIT_OK
