"""`provenance report --disclosure [--csv|--json|--html [FILE]] [EDIT...]`: the show's GenAI
disclosure, or, given edit timelines, their shot disclosure maps (each edit judged as the gate
judges it).

Each format flag takes an optional FILE, as `gate --html FILE` does (`--out FILE` still works):
without one the report goes to stdout. One format at a time: two are a usage error, never a
silent pick.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from provenance._os import write_atomic
from provenance.cli.options import trust_option
from provenance.config import Config, load_config
from provenance.errors import EXIT_OK, EXIT_UNDECIDED
from provenance.ledger import Ledger
from provenance.report.disclosure import CSV_COLUMNS, disclosure_rows, entries, to_csv, to_html, to_json

_EPILOG = "\b\nCSV columns (one row per asset; a sequence's frames each have a row):\n" + "\n".join(
    f"  {name:17} {text}" for name, text in CSV_COLUMNS.items())

STDOUT = "-"


def _format_option(name: str, what: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    return click.option(f"--{name}", f"{name}_file", is_flag=False, flag_value=STDOUT, default=None,
                        metavar="[FILE]", help=f"{what}, to FILE or (without one) to stdout.")


_SUFFIXES = {"csv": (".csv",), "json": (".json",), "html": (".html", ".htm")}


def _chosen(formats: dict[str, str | None], out: Path | None,
            edits: tuple[Path, ...]) -> tuple[str | None, Path | None, tuple[Path, ...]]:
    """(format, file, edits) from the flags; format None for the table.

    A format flag's FILE is optional, so click hands it the next word: in `--json cut.otio` that
    is an edit to report on, not a file to write over, and it goes back to the edits. A FILE that
    exists and is not a report of that format is refused: a report never overwrites the media."""
    given = {fmt: dest for fmt, dest in formats.items() if dest is not None}
    if len(given) > 1:
        raise click.UsageError(f"{' and '.join('--' + f for f in given)} exclude each other: one format "
                               "per run (run twice for two)")
    if not given:
        return ("json", out, edits) if out is not None else (None, None, edits)
    fmt, dest = next(iter(given.items()))
    if dest != STDOUT:
        from provenance.timeline import is_timeline

        if is_timeline(dest):
            return fmt, out, (Path(dest), *edits)
        if os.path.lexists(dest) and not dest.lower().endswith(_SUFFIXES[fmt]):
            raise click.UsageError(f"--{fmt} {dest}: exists and is not a {'/'.join(_SUFFIXES[fmt])} file; "
                                   f"a report never overwrites other files (name a new file, or use --out)")
    if dest != STDOUT and out is not None and Path(dest) != out:
        raise click.UsageError(f"two files given ({dest} and --out {out}): give one")
    return fmt, Path(dest) if dest != STDOUT else out, edits


@click.command("report", epilog=_EPILOG)
@click.argument("edits", nargs=-1, type=click.Path(path_type=Path))
@click.option("--allow-missing", is_flag=True, help="With EDIT: clips whose media is not found are listed, "
              "not undecided.")
@click.option("--disclosure", is_flag=True, required=True,
              help="Every GenAI asset with tool, purpose, declared risks and approval state.")
@_format_option("csv", "CSV")
@_format_option("json", "JSON (provenance.disclosure/v1)")
@_format_option("html", "Self-contained HTML")
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path),
              help="Write to FILE (the same as giving FILE to the format flag; JSON if none is given).")
@trust_option
@click.option("--config", "config_path", type=click.Path(path_type=Path), default=None,
              help="provenance.toml to use (default: search upward from the current folder).")
def command(edits: tuple[Path, ...], allow_missing: bool, disclosure: bool, csv_file: str | None,
            json_file: str | None, html_file: str | None, out: Path | None, config_path: Path | None) -> int:
    """What a production sends its studio contact: the show's generative-AI assets; with EDIT
    (a timeline), the AI shots of that edit by record timecode. Exit 3 when an edit's map
    could not be decided (unreadable edit or media, missing clips without --allow-missing)."""
    fmt, dest, edits = _chosen({"csv": csv_file, "json": json_file, "html": html_file}, out, edits)
    config = load_config(config_path)
    if edits:
        return _shot_maps(edits, config, fmt, dest, allow_missing)
    # Never create one here: a disclosure from a ledger that is gone would list nothing.
    with Ledger.open(config.effective_ledger_url, create=False) as ledger:
        rows = disclosure_rows(ledger, config)
    if fmt is None:
        table = Table("asset", "class", "tool", "purpose", "risks", "approval state")
        for e in entries(rows):  # sequences collapsed, pending first
            r = e.items[0]
            table.add_row(e.name if e.is_sequence else "\n".join(r.paths) or r.sha256[:12], r.classification,
                          r.tool or "—", r.purpose or "—", ", ".join(r.risks) or "none", r.state)
        Console().print(table)
        return 0
    text = {"csv": lambda: to_csv(rows), "html": lambda: to_html(rows, config)}.get(
        fmt, lambda: json.dumps(to_json(rows, config), indent=2) + "\n")()
    _deliver(text.encode("utf-8"), fmt, dest)
    return 0


def _deliver(data: bytes, fmt: str | None, dest: Path | None) -> None:
    """To stdout, or atomically to `dest` (stdout then says so; with JSON it holds the document
    too, as it does whenever JSON was asked for)."""
    if dest is None:
        click.echo(data.decode("utf-8"), nl=False)
        return
    write_atomic(dest, data)
    if fmt == "json":
        click.echo(data.decode("utf-8"), nl=False)
    else:
        click.echo(f"wrote {dest}")


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
    from provenance.ledger_location import open_for_gate

    with open_for_gate(config) as ledger:  # the gate's own memory: never one made empty here
        result = gate(list(edits), config, ledger, dry_run=True, allow_missing=allow_missing)
    render = {"csv": shot_map.shot_map_csv, "json": shot_map.shot_map_json, "html": gate_html_bytes}.get(
        fmt or "", shot_map.text_bytes)
    _deliver(render(result), fmt, out)
    return EXIT_UNDECIDED if result.result == "undecided" else EXIT_OK
