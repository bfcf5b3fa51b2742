"""`provenance inspect [--json] [--config FILE] PATH...`: what every file claims, with evidence.

Exit 0 when every file was read, 3 when any could not be (the rest are still reported).
`--json` prints ONE JSON array of `Verdict.to_dict()`, streamed as files are judged.

When the show has a ledger, what it remembers about these bytes is added by the same judging
step the gate uses (`provenance.judge`), so `inspect` and `gate` agree about the same bytes;
a verdict that rests on memory says so (`memory` in JSON, the "from memory" column).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from provenance.config import Config, load_config
from provenance.errors import EXIT_OK, EXIT_UNDECIDED
from provenance.model import Signal, Verdict
from provenance.pathtext import shown, to_text
from provenance.pipeline import inspect_tree

if TYPE_CHECKING:
    from provenance.ledger import Ledger

_CLASS_STYLE = {"ai_generated": "bold red", "ai_edited": "yellow", "not_ai": "green",
                "unknown": "dim"}


def _json(v: Verdict) -> dict[str, Any]:
    """`Verdict.to_dict()` with its paths in their lossless text form (valid UTF-8 for any reader)."""
    d = v.to_dict()
    d["path"] = to_text(d["path"])
    if d.get("link_target"):
        d["link_target"] = to_text(d["link_target"])
    return d


def key_evidence(v: Verdict) -> str:
    decisive = [e for e in v.evidence if e.signal is not Signal.INFO]
    if not decisive:
        return ""
    e = decisive[0]
    value = e.value if len(e.value) <= 60 else e.value[:59] + "…"
    return f"{e.source} {e.field}: {value}" + (f" (+{len(decisive) - 1})" if len(decisive) > 1 else "")


def _cells(v: Verdict) -> tuple[str, ...]:
    return (v.format, str(v.classification), "yes" if v.tampered else "", shown(v.generator or ""),
            shown(key_evidence(v)), shown("; ".join(r.statement for r in v.recollections)),
            shown("; ".join(v.errors)))


def _rows(verdicts: list[Verdict]) -> list[tuple[str, Verdict]]:
    """One row per file, the frames of a sequence collapsed into one row per distinct answer
    (`plates/plate.1001-1006,1008-1012#.png` not_ai, `plates/plate.1007.png` ai_generated)."""
    from provenance.sequences import group, split

    return [(part.name, part.items[0]) for g in group(verdicts, lambda v: v.path)
            for part in split(g, _cells)]


def _table(verdicts: list[Verdict]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(show_lines=False)
    for title in ("path", "format", "class", "tampered", "generator/tool", "key evidence",
                  "from memory", "errors"):
        table.add_column(title, overflow="fold")
    for name, v in _rows(verdicts):
        fmt, cls, *rest = _cells(v)
        table.add_row(shown(name), fmt, f"[{_CLASS_STYLE.get(cls, '')}]{cls}[/]", *rest)
    console = Console()
    if not console.is_terminal:  # piped into a log: do not squeeze into 80 columns
        console = Console(width=160)
    console.print(table)


def _ledger(config: Config, stack: ExitStack) -> Ledger | None:
    """The show's ledger, if it has one; inspecting never creates one. A SQLite ledger that
    does not exist yet (nothing was recorded) means no memory; a ledger that exists or is a
    server but cannot be opened is an error (exit 3), not a silent loss of memory."""
    from sqlalchemy.engine import make_url

    from provenance.ledger import Ledger

    if config.file is None and config.ledger_url is None:
        return None  # no show config, so no show's ledger: what the files themselves say
    url = make_url(config.effective_ledger_url)
    if url.get_backend_name() == "sqlite" and url.database and not Path(url.database).is_file():
        return None
    return stack.enter_context(Ledger.open(config.effective_ledger_url, create=False))


def _verdicts(paths: tuple[Path, ...], config_file: Path | None) -> Iterator[Verdict]:
    config = load_config(config_file)
    with ExitStack() as stack:
        ledger = _ledger(config, stack)
        verdicts = inspect_tree(paths, config.reader_settings(), workers=config.workers,
                                readers=config.readers)
        if ledger is None:
            yield from verdicts
            return
        from provenance.judge import Judge

        yield from Judge(config, ledger).remember_stream(verdicts)


@click.command("inspect")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print one JSON array of verdicts.")
@click.option("--config", "config_file", type=click.Path(dir_okay=False, path_type=Path),
              help="provenance.toml to use (default: found upward from the current folder).")
def command(paths: tuple[Path, ...], as_json: bool, config_file: Path | None) -> None:
    """Classify files and folders (recursive): ai_generated, ai_edited, not_ai or unknown."""
    unreadable = 0
    if as_json:
        click.echo("[", nl=False)
        for i, verdict in enumerate(_verdicts(paths, config_file)):
            unreadable += not verdict.readable
            click.echo(("," if i else "") + "\n" + json.dumps(_json(verdict)), nl=False)
        click.echo("\n]")
    else:
        verdicts = list(_verdicts(paths, config_file))
        unreadable = sum(not v.readable for v in verdicts)
        _table(verdicts)
        if unreadable:
            click.echo(f"{unreadable} of {len(verdicts)} file(s) could not be read", err=True)
    raise click.exceptions.Exit(EXIT_UNDECIDED if unreadable else EXIT_OK)
