"""Say what is wrong with a provenance.toml: the file, the line and the nearest valid key.

pydantic says *what* failed and where in the data (`('watch', 'setle_seconds')`); tomllib keeps
no positions, so `key_lines` finds each table and key in the text (headers, dotted and quoted
keys, array-of-tables indices; multi-line strings skipped). It only places messages: what is
valid is decided by the schema (config_schema.py), never here.
"""

from __future__ import annotations

import difflib
import re
import typing
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from provenance.config_schema import ConfigFile
from provenance.errors import ConfigError

_HEADER = re.compile(r"^\s*(\[\[?)\s*([^\[\]#]+?)\s*\]\]?\s*(#.*)?$")
_NAME = r"""(?:"[^"]*"|'[^']*'|[A-Za-z0-9_-]+)"""
_KEY = re.compile(rf"^\s*({_NAME}(?:\s*\.\s*{_NAME})*)\s*=")
_INLINE_KEY = re.compile(rf"(?:[{{,]\s*)({_NAME})\s*=")

Loc = tuple[str | int, ...]


def _parts(dotted: str) -> list[str]:
    return [p.strip().strip("\"'") for p in re.findall(r"""(?:"[^"]*"|'[^']*'|[^.]+)""", dotted)]


def key_lines(text: str) -> dict[Loc, int]:
    """Every table and key in `text` → its 1-based line (first occurrence)."""
    out: dict[Loc, int] = {}
    table: Loc = ()
    counts: dict[Loc, int] = {}
    in_string: str | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        if in_string is not None:
            if line.count(in_string) % 2 == 1:
                in_string = None
            continue
        header = _HEADER.match(line)
        if header:
            names = tuple(_parts(header.group(2)))
            if header.group(1) == "[[":
                index = counts.get(names, 0)
                counts[names] = index + 1
                out.setdefault(names, number)
                table = (*names, index)
            else:
                table = names
            out.setdefault(table, number)
            continue
        key = _KEY.match(line)
        if key:
            loc = (*table, *_parts(key.group(1)))
            out.setdefault(loc, number)
            for inline in _INLINE_KEY.finditer(line[key.end():]):
                out.setdefault((*loc, inline.group(1).strip("\"'")), number)
            for quote in ('"""', "'''"):
                if line.count(quote) % 2 == 1:
                    in_string = quote
    return out


def _line(loc: Loc, lines: dict[Loc, int]) -> int | None:
    for end in range(len(loc), 0, -1):
        if loc[:end] in lines:
            return lines[loc[:end]]
    return None


def _model_at(loc: Loc) -> type[BaseModel] | None:
    """The schema model that holds the last element of `loc` (to list its valid keys)."""
    current: Any = ConfigFile
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return None
        field = current.model_fields.get(part)
        if field is None:
            return None
        current = field.annotation
        while typing.get_origin(current) in (list, tuple):
            current = typing.get_args(current)[0]
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def _nearest(word: str, choices: list[str]) -> str | None:
    found = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return found[0] if found else None


def _where(loc: Loc) -> str:
    names = [p for p in loc if isinstance(p, str) and p != "[key]"]
    if not names:
        return "top level"
    table = loc[0]
    rest = ".".join(str(p) for p in loc[1:] if p != "[key]")
    return f"[{table}] {rest}".strip() if rest else f"[{table}]"


def _describe(err: Any) -> str:
    loc: Loc = tuple(err["loc"])
    kind = err["type"]
    if kind == "extra_forbidden":
        name = str(loc[-1])
        model = _model_at(loc)
        # as the file spells them (an alias: `from`, which Python cannot name a field)
        valid = [f.alias or n for n, f in model.model_fields.items()] if model else []
        what = "table" if isinstance(err.get("input"), dict) and len(loc) == 1 else "key"
        where = f"[{name}]" if len(loc) == 1 and what == "table" else f"{_where(loc[:-1])}: {name}" \
            if len(loc) > 1 else name
        guess = _nearest(name, valid)
        hint = f"; did you mean {guess!r}?" if guess else (f" (valid: {', '.join(valid)})" if valid else "")
        return f"{where}: unknown {what}{hint}"
    if kind == "literal_error":
        expected = re.findall(r"'([^']*)'", str(err.get("ctx", {}).get("expected", "")))
        guess = _nearest(str(err.get("input")), expected)
        # A bad table key (`required = { "talent-likenes" = 2 }`) or a bad value.
        subject = f"{_where(loc[:-2])}: {err['input']!r}" if loc[-1] == "[key]" else \
            f"{_where(loc)} = {err['input']!r}"
        hint = f"; did you mean {guess!r}?" if guess else ""
        return f"{subject} is not one of {', '.join(expected)}{hint}"
    msg = str(err["msg"]).removeprefix("Value error, ")
    return f"{_where(loc)}: {msg[:1].lower() + msg[1:]} (got {err.get('input')!r})"


def config_error(exc: ValidationError, text: str, path: Path) -> ConfigError:
    """One ConfigError naming the file and, per problem, its line and the nearest valid key."""
    lines = key_lines(text)
    located = sorted(((_line(tuple(err["loc"]), lines) or 0, _describe(err)) for err in exc.errors()),
                     key=lambda p: p[0])
    return ConfigError("; ".join(f"line {n}: {what}" if n else what for n, what in located), path)
