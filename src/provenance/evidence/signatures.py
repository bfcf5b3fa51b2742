"""Known generators as data: rows of (field glob, value regex → signal, generator).

The built-in rows live in `provenance/data/signatures.toml`; a production adds rows of the
same shape through `ReaderSettings.extra_signatures`. Matching is the only logic here, so
adding a generator never means editing code.
"""

from __future__ import annotations

import fnmatch
import re
import tomllib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files
from typing import Any

from provenance.errors import ConfigError
from provenance.model import Signal
from provenance.vocabulary import normalise

_SIGNALS = {s.value: s for s in (Signal.AI_GENERATED, Signal.AI_EDITED, Signal.CAPTURE,
                                 Signal.INFO)}
MAX_VALUE_CHARS = 200_000  # a ComfyUI graph is tens of KB; bound regex work on hostile input
# Groups that are not the file's own claims as tags: C2PA as ExifTool decodes it (the c2pa
# reader judges manifests as a chain), the file system's facts (a file *name* is not a tag)
# and ExifTool's own notes.
UNMATCHED_GROUPS = frozenset({"cbor", "jumbf", "system", "exiftool"})


def matchable(key: str) -> bool:
    return key.partition(":")[0].lower() not in UNMATCHED_GROUPS


@dataclass(frozen=True)
class Signature:
    field: str  # glob over "Group:Tag", lower-cased
    pattern: re.Pattern[str]
    signal: Signal
    generator: str | None

    @property
    def tag(self) -> str:
        return self.field.rpartition(":")[2]


@dataclass(frozen=True)
class Match:
    key: str
    value: str
    signature: Signature


def parse_row(row: Mapping[str, Any], origin: str) -> Signature:
    try:
        field, value, signal = str(row["field"]), str(row["value"]), str(row["signal"])
    except KeyError as exc:
        raise ConfigError(f"signature row in {origin} lacks {exc.args[0]!r}: {dict(row)}") from None
    if signal not in _SIGNALS:
        raise ConfigError(f"signature row in {origin}: signal must be one of "
                          f"{', '.join(_SIGNALS)}, not {signal!r}")
    try:
        pattern = re.compile(value, re.DOTALL)  # JSON graphs span lines
    except re.error as exc:
        raise ConfigError(f"signature row in {origin}: bad regex {value!r}: {exc}") from None
    generator = row.get("generator")
    return Signature(field.lower(), pattern, _SIGNALS[signal], str(generator) if generator else None)


@lru_cache(maxsize=1)
def builtin() -> tuple[Signature, ...]:
    text = (files("provenance") / "data" / "signatures.toml").read_text(encoding="utf-8")
    rows = tomllib.loads(text).get("signature", [])
    return tuple(parse_row(r, "signatures.toml") for r in rows)


class SignatureTable:
    """Rows indexed by tag name so a file's tags are matched without scanning every row."""

    def __init__(self, extra: Iterable[Mapping[str, Any]] = ()) -> None:
        rows = [*builtin(), *(parse_row(r, "configuration") for r in extra)]
        self._by_tag: dict[str, list[Signature]] = {}
        self._wild: list[Signature] = []
        for sig in rows:
            if any(c in sig.tag for c in "*?["):
                self._wild.append(sig)
            else:
                self._by_tag.setdefault(sig.tag, []).append(sig)

    def _candidates(self, key: str) -> Iterator[Signature]:
        tag = key.rpartition(":")[2]
        yield from self._by_tag.get(tag, ())
        for sig in self._wild:
            if fnmatch.fnmatchcase(tag, sig.tag):
                yield sig

    def match(self, tags: Mapping[str, Any]) -> list[Match]:
        found: list[Match] = []
        for key, raw in tags.items():
            if not matchable(key):
                continue
            lowered = key.lower()
            sigs = [sig for sig in self._candidates(lowered) if fnmatch.fnmatchcase(lowered, sig.field)]
            if not sigs:
                continue
            values = [(v, normalise(v[:MAX_VALUE_CHARS])) for v in _values(raw)]
            for sig in sigs:
                for value, text in values:
                    if sig.pattern.search(text):
                        found.append(Match(key, value, sig))
                        break
        return found


def _values(raw: Any) -> Iterator[str]:
    if isinstance(raw, list):
        for item in raw:
            yield from _values(item)
    elif isinstance(raw, dict):
        for item in raw.values():
            yield from _values(item)
    elif raw is not None:
        yield str(raw)
