"""`provenance findings [--json] [--long] [--blocking] [--rule R] [--path GLOB] [--since WHEN]`:
the open findings in the ledger, and what would clear each.

One line per finding (rule, path relative to the show, message, what clears it) that fits a
120-column terminal; the principle each rule protects is in `--long` and in JSON. What clears a
finding is its rule's own remedy (`policy.registry.remedy`), never one sentence for all rules.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Sequence
from pathlib import Path

import click

from provenance.cli.options import config_option, json_option
from provenance.cli.output import emit, line_table
from provenance.config import load_config
from provenance.model import Finding
from provenance.pathtext import shown, to_text
from provenance.wording import plural


def clears_text(f: Finding) -> str:
    from provenance.policy.registry import remedy

    return remedy(f)


def relative(path: str, base: Path | None) -> str:
    """`path` as the show names it (relative to the show folder), or as it is when outside it."""
    if base is not None:
        try:
            return os.path.relpath(path, base) if Path(path).is_relative_to(base) else path
        except ValueError:
            return path
    return path


def findings_table(findings: Sequence[Finding], base: Path | None = None) -> None:
    """One line per finding; when the terminal is too narrow, the message and what clears it
    give way together, and only then the start of a path longer than 60 characters (its file
    name stays): the path says which file."""
    rows = [[f.rule, shown(relative(f.path, base)), shown(f.message), clears_text(f)] for f in findings]
    styles = [["bold red" if f.blocking else "yellow", "", "", ""] for f in findings]
    line_table(("rule", "path", "message", "clears it"), rows, minimum=(0, 60, 16, 16),
               shrink_order=((2, 3), (1,)), keep_end=(1,), styles=styles)


def _long(findings: Sequence[Finding], base: Path | None) -> None:
    for f in findings:
        click.echo(f"{f.rule}{'' if f.blocking else ' (not blocking)'}  {shown(relative(f.path, base))}")
        for label, text in (("message", f.message), ("clears it", clears_text(f)),
                            ("principle", f.principle), ("class", str(f.classification)),
                            ("sha256", f.sha256 or "—")):
            click.echo(f"  {label + ':':<11}{shown(text)}")


def _since(text: str | None) -> str | None:
    """`--since` as the ledger's own time text (UTC ISO), so it compares as the ledger stores it."""
    if text is None:
        return None
    try:
        when = dt.datetime.fromisoformat(text)
    except ValueError:
        raise click.BadParameter(f"{text!r} is not a date (YYYY-MM-DD) or ISO time",
                                 param_hint="--since") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return when.astimezone(dt.UTC).isoformat()


def select(found: Sequence[Finding], base: Path | None, *, blocking: bool, rules: Sequence[str],
           path_glob: str | None) -> list[Finding]:
    from wcmatch import glob

    flags = glob.GLOBSTAR | glob.DOTGLOB
    return [f for f in found
            if (not blocking or f.blocking) and (not rules or f.rule in rules)
            and (path_glob is None or glob.globmatch(relative(f.path, base), path_glob, flags=flags)
                 or glob.globmatch(f.path, path_glob, flags=flags))]


@click.command("findings")
@click.option("--long", "long_", is_flag=True,
              help="Every finding in full: message, remedy, principle, hash.")
@click.option("--blocking", is_flag=True, help="Only findings that block a delivery.")
@click.option("--rule", "rules", multiple=True, metavar="RULE",
              help="Only this rule (repeatable), e.g. temporary-material.")
@click.option("--path", "path_glob", metavar="GLOB",
              help="Only paths matching GLOB, relative to the show (`ep101/final/**`) or absolute.")
@click.option("--since", "since", metavar="WHEN",
              help="Only findings opened at or after WHEN (YYYY-MM-DD, UTC, or an ISO time).")
@config_option
@json_option
def command(long_: bool, blocking: bool, rules: tuple[str, ...], path_glob: str | None, since: str | None,
            config_path: Path | None, as_json: bool) -> None:
    """List open findings: rule, path, message and what would clear it."""
    from provenance.ledger import Ledger

    opened_since = _since(since)
    config = load_config(config_path)
    base = config.base_dir if config.file is not None else None
    # A ledger that is missing, corrupt or unreachable raises LedgerError (exit 3, with the
    # reason): "no open findings" must only ever mean a ledger that was read and holds none.
    with Ledger.open(config.effective_ledger_url, create=False) as ledger:
        found = select(ledger.open_findings(since=opened_since), base, blocking=blocking, rules=rules,
                       path_glob=path_glob)
    if as_json:
        emit("findings", {"findings": [{**f.to_dict(), "path": to_text(f.path), "remedy": clears_text(f),
                                        "clears_with_text": clears_text(f)} for f in found],
                          "open": len(found), "blocking": sum(f.blocking for f in found)})
    elif not found:
        click.echo("no open findings")
    else:
        (_long if long_ else findings_table)(found, base)
        click.echo(f"{plural(len(found), 'open finding')} ({sum(f.blocking for f in found)} blocking)")
