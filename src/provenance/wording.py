"""Counts in words, for people: "1 file", "2 files", "1 clear asset" (issue 14: "1 files").

The one helper every output uses, so a count never disagrees with its noun.
"""

from __future__ import annotations

# Nouns whose plural is not noun + "s" (only the ones our messages count).
_IRREGULAR = {"was": "were", "is": "are", "its": "their"}


def plural(n: int, noun: str, many: str | None = None) -> str:
    """`n` and `noun`, the last word made plural unless `n` is 1: plural(2, "clear asset") →
    "2 clear assets"; `many` spells an irregular plural in full."""
    return f"{n} {noun if n == 1 else (many or _plural_of(noun))}"


def _plural_of(noun: str) -> str:
    head, _, last = noun.rpartition(" ")
    if last in _IRREGULAR:
        word = _IRREGULAR[last]
    elif last.endswith(("s", "x", "ch", "sh")):
        word = last + "es"
    elif last.endswith("y") and last[-2:-1] not in "aeiou":
        word = last[:-1] + "ies"
    else:
        word = last + "s"
    return f"{head} {word}" if head else word
