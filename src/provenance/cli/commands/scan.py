"""`provenance scan PATH... [--json]`: reconcile trees with the ledger once, with a progress bar.

Unchanged files (same dev/inode/size/mtime/ctime) are not re-read; vanished ones are
marked removed. Prints counts and the findings this scan opened. Exit 0 when every file
was read, 3 when any file or folder could not be (use `provenance gate` for a delivery decision).

`scan --backfill [PATH...]` instead fingerprints the assets the ledger already knows (under
PATH..., or all) that lack a current fingerprint, saving each batch as it completes, so an
interrupted run loses at most one batch and the next skips what was saved (memory/backfill.py).
"""

from __future__ import annotations

from pathlib import Path

import click

from provenance.cli.options import config_option, json_option, trust_option
from provenance.cli.output import emit
from provenance.config import load_config
from provenance.errors import EXIT_OK, EXIT_UNDECIDED
from provenance.pathtext import shown
from provenance.wording import plural


@click.command("scan")
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option("--backfill", is_flag=True,
              help="Fingerprint the ledger's assets (under PATH..., or all) that lack a current fingerprint.")
@trust_option
@config_option
@json_option
def command(paths: tuple[Path, ...], backfill: bool, config_path: Path | None, as_json: bool) -> int:
    """Reconcile PATH... once: judge new and changed files, record removed ones."""
    if backfill:
        return _backfill(paths, config_path, as_json)
    if not paths:
        raise click.UsageError("give at least one PATH to scan (or --backfill)")
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from provenance.cli.commands.findings import findings_table
    from provenance.watch import scan

    first = paths[0] if paths[0].is_dir() else paths[0].parent
    config = load_config(config_path, start=first.resolve())
    err = Console(stderr=True)
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=err, transient=True, disable=as_json or not err.is_terminal) as bar:
        walk = bar.add_task("walking", total=None)
        judge = bar.add_task("judging", total=None, visible=False)

        def progress(phase: str, done: int, total: int | None) -> None:
            if phase == "walk":
                bar.update(walk, completed=done)
            elif phase == "walk-done":
                bar.update(walk, completed=done, total=done)
                bar.update(judge, total=total, visible=True)
            else:
                bar.update(judge, completed=done)

        result = scan(config, [str(p) for p in paths], progress=progress)
    if as_json:
        emit("scan", result.to_dict())
    else:
        click.echo(f"{plural(result.files, 'file')}: {result.judged} judged, {result.unchanged} unchanged, "
                   f"{result.removed} removed, {plural(result.errors, 'error')} "
                   f"({result.duration_s:.1f} s walk)")
        if result.new_findings:
            click.echo(f"{plural(len(result.new_findings), 'new finding')}:")
            findings_table(result.new_findings, config.base_dir if config.file is not None else None)
        click.echo(f"{plural(result.open_findings, 'finding')} open in the ledger (`provenance findings`)")
        for folder in result.unreadable_dirs:
            click.echo(f"could not read folder {shown(folder)}: nothing inside it was judged", err=True)
    # A folder the walk could not enter may hold anything: that is not "every file was read".
    return EXIT_UNDECIDED if result.errors or result.unreadable_dirs else EXIT_OK


def _backfill(paths: tuple[Path, ...], config_path: Path | None, as_json: bool) -> int:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from provenance.ledger import Ledger
    from provenance.memory.backfill import backfill

    start = (paths[0] if paths[0].is_dir() else paths[0].parent) if paths else Path.cwd()
    config = load_config(config_path, start=start.resolve())
    err = Console(stderr=True)
    with Ledger.open(config.effective_ledger_url) as ledger, Progress(
            TextColumn("fingerprinting"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
            console=err, transient=True, disable=as_json or not err.is_terminal) as bar:
        task = bar.add_task("fingerprinting", total=None)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        result = backfill(ledger, paths, progress=progress)
    if as_json:
        emit("scan-backfill", result.to_dict())
    else:
        click.echo(f"{plural(result.assets, 'asset')} in the ledger: {result.fingerprinted} fingerprinted, "
                   f"{result.already} already fingerprinted, {result.no_media} without picture or sound")
        for path in result.gone:
            click.echo(f"gone: {shown(path)} (not fingerprinted; `provenance scan` its folder to record it)")
        for path in result.changed:
            click.echo(f"changed: {shown(path)} holds other bytes than the ledger recorded "
                       f"(not fingerprinted; `provenance scan` its folder to judge it)")
        for path, reason in result.failed:
            click.echo(f"could not fingerprint {shown(path)}: {reason}", err=True)
        lacking = len(result.ai_without_print)
        click.echo(f"{plural(lacking, 'AI original')} in memory without a fingerprint"
                   + (" (no copy on storage holds its bytes: its derivatives are not recognised by content)"
                      if lacking else ""))
    return EXIT_UNDECIDED if result.failed else EXIT_OK
