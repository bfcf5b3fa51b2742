"""`provenance inspect [--json] [--config FILE] PATH...`: what every file claims, with evidence.

Exit 0 when every file was read, 3 when any could not be (the rest are still reported).
`--json` prints ONE JSON document, `provenance.inspect/v1`: `verdicts` (each `Verdict.to_dict()`,
streamed as files are judged), then `files`, `unreadable` and `exit_code`.

When the show has a ledger, what it remembers about these bytes is added by the same judging
step the gate uses (`provenance.judge`), so `inspect` and `gate` agree about the same bytes;
a verdict that rests on memory says so (`memory` in JSON, the "from memory" column).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from natsort import natsort_keygen

from provenance.cli.output import counting, streamed_list, table_console
from provenance.config import Config, load_config
from provenance.errors import EXIT_OK, EXIT_UNDECIDED
from provenance.model import Signal, Verdict
from provenance.pathtext import shown, to_text
from provenance.pipeline import inspect_tree
from provenance.wording import plural

if TYPE_CHECKING:
    from provenance.ledger import Ledger

natsort_key = natsort_keygen()  # shot_f998 before shot_f2999, as a person lists them
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


def fingerprint_of(v: Verdict) -> str:
    """Content memory's note on the file's fingerprint (kind, short values), if it made one."""
    return next((e.value for e in v.evidence if e.source == "content" and e.field == "fingerprint"), "")


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


def shown_path(path: str) -> str:
    """A path for people: relative to the current folder when it is inside it, one line."""
    if os.path.isabs(path):
        rel = os.path.relpath(path)
        if not rel.startswith(".."):
            path = rel
    return shown(path)


def _table(verdicts: list[Verdict]) -> None:
    """Sorted as people sort names (f998 before f2999), sequences collapsed; the path column is as wide as the
    paths (up to three fifths of the line) and never wraps mid-name while anything else can fold."""
    from rich import box
    from rich.table import Table
    from rich.text import Text

    console = table_console()
    named = sorted(_rows(verdicts), key=lambda row: natsort_key(row[0]))
    rows = [v for _, v in named]
    paths = [shown_path(name) for name, _ in named]
    longest = max((len(p) for p in paths), default=4)
    cells = {"key evidence": [shown(key_evidence(v)) for v in rows],
             "fingerprint": [shown(fingerprint_of(v)) for v in rows],
             "from memory": [shown("; ".join(r.statement for r in v.recollections)) for v in rows],
             "errors": [shown("; ".join(v.errors)) for v in rows]}
    extra = [title for title, column in cells.items() if any(column)]  # no empty columns
    table = Table(box=box.SIMPLE_HEAD, show_lines=False, header_style="bold", pad_edge=False)
    table.add_column("path", min_width=min(longest, console.width * 3 // 5), overflow="fold")
    table.add_column("format", no_wrap=True)
    table.add_column("class", no_wrap=True)
    table.add_column("generator/tool", overflow="fold", max_width=24)
    for title in extra:
        table.add_column(title, overflow="fold", ratio=1)
    for i, (v, path) in enumerate(zip(rows, paths, strict=True)):
        cls = str(v.classification)
        table.add_row(Text(path), v.format or "", Text(cls + (" (tampered)" if v.tampered else ""),
                                                       style=_CLASS_STYLE.get(cls, "")),
                      Text(shown(v.generator or "")),
                      *(Text(cells[title][i], style="red" if title == "errors" else "") for title in extra))
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


@contextmanager
def _verdicts(paths: tuple[Path, ...], config_file: Path | None) -> Iterator[Iterator[Verdict]]:
    """The verdicts, once the configuration and the ledger are open: an error there is raised
    before anything is printed, so `--json` answers with one error document, not half a list."""
    config = load_config(config_file)
    with ExitStack() as stack:
        ledger = _ledger(config, stack)
        verdicts = inspect_tree(paths, config.reader_settings(), workers=config.workers,
                                readers=config.readers)
        if ledger is None:
            yield verdicts
            return
        from provenance.judge import Judge

        yield Judge(config, ledger).remember_stream(verdicts)


@click.command("inspect")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True,
              help="Print one JSON document (provenance.inspect/v1) with every verdict.")
@click.option("--config", "config_file", type=click.Path(dir_okay=False, path_type=Path),
              help="provenance.toml to use (default: found upward from the current folder).")
def command(paths: tuple[Path, ...], as_json: bool, config_file: Path | None) -> None:
    """Classify files and folders (recursive): ai_generated, ai_edited, not_ai or unknown."""
    unreadable = 0
    with _verdicts(paths, config_file) as verdicts, counting("inspect") as advance:
        if as_json:
            with streamed_list("inspect", "verdicts") as out:
                n = 0
                for verdict in verdicts:
                    n += 1
                    advance()
                    unreadable += not verdict.readable
                    out.add(_json(verdict))
                out.close(files=n, unreadable=unreadable, exit_code=EXIT_UNDECIDED if unreadable else EXIT_OK)
        else:
            listed = []
            for verdict in verdicts:
                advance()
                listed.append(verdict)
            unreadable = sum(not v.readable for v in listed)
    if not as_json:
        _table(listed)
        if unreadable:
            click.echo(f"{unreadable} of {plural(len(listed), 'file')} could not be read", err=True)
    raise click.exceptions.Exit(EXIT_UNDECIDED if unreadable else EXIT_OK)
