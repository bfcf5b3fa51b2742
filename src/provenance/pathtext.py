"""A file system path as text: one lossless form for storing, one escaped form for people.

POSIX names are bytes. Python hands a name that is not valid UTF-8 over as a `str` with
lone surrogates (PEP 383 "surrogateescape": byte 0xFF becomes U+DCFF); that `str` opens the
file, but cannot be encoded as UTF-8, so SQLite, PostgreSQL, JSON readers and terminals
refuse it. Such a path stays in that form while it is used to open files and is converted
only where it becomes text:

- `to_text(path)`: valid Unicode that maps back to exactly the same path (`from_text`).
  A valid UTF-8 name without a backslash is itself (every ordinary name); an undecodable
  byte is written `\\xNN` and a backslash `\\\\`, so no two paths share a text form.
- `shown(path)`: what a terminal or report shows: `to_text`, with control characters
  (a newline in a name) escaped as well, so one name is one line.
"""

from __future__ import annotations

import os
import re

# A backslash, or any lone surrogate (from the OS only U+DC80..U+DCFF, one per undecodable byte).
_ESCAPE = re.compile(r"[\\\ud800-\udfff]")
_UNESCAPE = re.compile(r"\\(\\|x[89a-f][0-9a-f]|ud[89a-f][0-9a-f]{2})")


def _escape(m: re.Match[str]) -> str:
    c = ord(m.group())
    if c == ord("\\"):
        return "\\\\"
    return f"\\x{c - 0xDC00:02x}" if 0xDC80 <= c <= 0xDCFF else f"\\u{c:04x}"


def _unescape(m: re.Match[str]) -> str:
    code = m.group(1)
    if code == "\\":
        return "\\"
    return chr(0xDC00 + int(code[1:], 16)) if code[0] == "x" else chr(int(code[1:], 16))


def _clean(text: str) -> bool:
    """Is `text` already its own text form (the fast path: nearly every name is)?"""
    if "\\" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def to_text(path: str | os.PathLike[str]) -> str:
    """The lossless text form of a path (see the module docstring); `from_text` inverts it."""
    text = os.fspath(path)
    return text if _clean(text) else _ESCAPE.sub(_escape, text)


def from_text(text: str) -> str:
    """The path (surrogate-escaped `str`, as `os` functions take it) a `to_text` form stands for."""
    return text if "\\" not in text else _UNESCAPE.sub(_unescape, text)


def shown(path: str | os.PathLike[str]) -> str:
    """A path (or a message holding one) as a person should see it: one line, nothing raw."""
    text = to_text(path)
    return text if text.isprintable() else "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
