"""The one output contract of every command (issue 14).

Results go to stdout; progress and diagnostics to stderr. With `--json`, stdout holds exactly
one JSON document whose `schema` names its versioned JSON Schema, shipped in
`provenance/data/schemas/<name>.v1.json`; an error is a document too (`provenance.error/v1`,
written by `cli.main`), so a script reading stdout always gets JSON and the exit code.
Adding a field keeps the version; renaming or removing one means `/v2`.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from rich.console import Console

ERROR = "error"


def schema_id(name: str) -> str:
    """`inspect` → `provenance.inspect/v1`; the gate's own `provenance.gate/v1` follows the same form."""
    return f"provenance.{name}/v1"


def document(name: str, body: dict[str, Any]) -> dict[str, Any]:
    """`body` with its schema id first (a reader sees what it is before anything else)."""
    return {"schema": schema_id(name), **{k: v for k, v in body.items() if k != "schema"}}


def emit(name: str, body: dict[str, Any], *, indent: int | None = 2, **dumps: Any) -> None:
    """Print one JSON document on stdout."""
    click.echo(json.dumps(document(name, body), indent=indent, **dumps))


@contextmanager
def streamed_list(name: str, key: str, head: dict[str, Any] | None = None) -> Iterator[_ListWriter]:
    """One JSON document whose `key` list is written item by item as it is produced (`inspect`
    of 3,000 files does not hold them all); fields given to `close` come after the list."""
    writer = _ListWriter(name, key, head or {})
    yield writer
    writer.close()


class _ListWriter:
    def __init__(self, name: str, key: str, head: dict[str, Any]) -> None:
        opening = json.dumps(document(name, head))[:-1]  # the object left open: `{"schema": …`
        click.echo(f"{opening}, {json.dumps(key)}: [", nl=False)
        self._n = 0
        self._closed = False

    def add(self, item: Any) -> None:
        click.echo(("," if self._n else "") + "\n" + json.dumps(item), nl=False)
        self._n += 1

    def close(self, **tail: Any) -> None:
        if self._closed:
            return
        self._closed = True
        rest = "".join(f", {json.dumps(k)}: {json.dumps(v)}" for k, v in tail.items())
        click.echo(f"\n]{rest}}}")


def table_console() -> Console:
    """Where tables go: stdout, at the terminal's width (or $COLUMNS); piped into a log without
    $COLUMNS, wide enough that lines are not cut at 80."""
    from rich.console import Console

    console = Console(soft_wrap=False)
    if not console.is_terminal and "COLUMNS" not in os.environ:
        console = Console(width=200)
    return console


def wants_json(argv: Sequence[str]) -> bool:
    """Whether the command line asked for JSON: read from the words themselves, because a usage
    error can stop click before any option is processed, and its answer must be JSON too.
    Words after `--` belong to another program (`hook pre-handoff … -- rsync …`)."""
    words = list(argv)
    if "--" in words:
        words = words[: words.index("--")]
    return "--json" in words


def error_document(message: str, kind: str, exit_code: int, path: str | None = None) -> dict[str, Any]:
    return document(ERROR, {"error": {"type": kind, "message": message, "path": path},
                            "exit_code": exit_code})


def emit_error(message: str, kind: str, exit_code: int, path: str | None = None) -> None:
    click.echo(json.dumps(error_document(message, kind, exit_code, path), ensure_ascii=False),
               file=sys.stdout)


def fit_widths(natural: Sequence[int], minimum: Sequence[int], shrink_order: Sequence[Sequence[int]],
               available: int) -> list[int]:
    """Column widths that fit `available`: each column as wide as its content, and when the sum
    is too wide the groups in `shrink_order` give way in turn (the columns of one group in
    proportion to what each has above its minimum), none below its minimum; a column in no
    group (the rule name, say) is never cut."""
    widths = list(natural)
    excess = sum(widths) - available
    for group in shrink_order:
        spare = {i: max(0, widths[i] - minimum[i]) for i in group}
        total = sum(spare.values())
        if excess <= 0 or total == 0:
            continue
        give = min(excess, total)
        for i in group:
            widths[i] -= give * spare[i] // total
        excess -= give
        widths[group[0]] -= max(0, sum(widths) - available) if excess <= 0 else 0  # rounding
    return widths


def clip(text: str, width: int, keep_end: bool = False) -> str:
    """`text` in at most `width` characters, with "…" where it was cut; `keep_end` cuts the
    start instead (a path: its file name is what says which file)."""
    if len(text) <= width:
        return text
    if width <= 1:
        return "…"[:width]
    return "…" + text[-(width - 1):] if keep_end else text[: width - 1] + "…"


def line_table(headers: Sequence[str], rows: Sequence[Sequence[str]], *, minimum: Sequence[int],
               shrink_order: Sequence[Sequence[int]], keep_end: Sequence[int] = (),
               styles: Sequence[Sequence[str]] | None = None) -> None:
    """A table of one line per row, sized to the terminal (or $COLUMNS): columns as wide as
    what they hold, cut with "…" only when the line would not fit. Cells are plain text, never
    rich markup (a message naming `[[tools]]` prints as written)."""
    from rich.table import Table
    from rich.text import Text

    console = table_console()
    gap = 2
    natural = [max([len(h), *(len(r[i]) for r in rows)]) for i, h in enumerate(headers)]
    widths = fit_widths(natural, minimum, shrink_order, console.width - gap * (len(headers) - 1))
    table = Table(box=None, pad_edge=False, padding=(0, gap // 2), header_style="bold", show_edge=False)
    for header, width in zip(headers, widths, strict=True):
        table.add_column(header, width=width, no_wrap=True, overflow="crop")
    for n, row in enumerate(rows):
        table.add_row(*(Text(clip(cell, widths[i], i in keep_end), style=styles[n][i] if styles else "")
                        for i, cell in enumerate(row)))
    # A line that cannot fit even with every column at its minimum runs long rather than
    # losing what the minimums keep (rich would otherwise crop every column to fit).
    needed = sum(widths) + gap * (len(headers) - 1)
    if needed > console.width:
        from rich.console import Console

        console = Console(width=needed, force_terminal=console.is_terminal)
    console.print(table)


@contextmanager
def counting(label: str, noun: str = "file") -> Iterator[Callable[[], None]]:
    """A progress line on stderr while a command works through files one by one (`inspect` of
    3,000 files is not 13 s of silence): how many so far, the rate and the time spent. Only on
    a terminal: piped or redirected stderr gets nothing, and stdout is never touched."""
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    err = Console(stderr=True)
    with Progress(TextColumn(label), BarColumn(), TextColumn("{task.completed} " + noun + "s"),
                  TimeElapsedColumn(), console=err, transient=True, disable=not err.is_terminal) as bar:
        task = bar.add_task(label, total=None)
        yield lambda: bar.advance(task)
