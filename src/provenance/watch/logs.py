"""The daemon's log output: stdout, human-readable lines or one JSON object per line.

Under systemd, stdout is a stream into the journal ($JOURNAL_STREAM names it by device and
inode). Then every line starts with its syslog priority, `<4>` for a warning (a finding),
which journald strips and stores as PRIORITY (so `journalctl -p warning` shows findings),
and the text lines carry no timestamp of their own: the journal stamps each line already.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from datetime import UTC, datetime
from typing import TextIO


class JsonLines(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        finding = getattr(record, "finding", None)
        if finding is not None:
            out["finding"] = finding
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False)


TEXT_FORMAT = "%(asctime)s %(levelname)-7s %(message)s"
JOURNAL_TEXT_FORMAT = "%(levelname)-7s %(message)s"


def syslog_priority(levelno: int) -> int:
    """logging level → syslog priority (sd-daemon(3)): <2> crit, <3> err, <4> warning, <6> info, <7> debug."""
    levels = ((logging.CRITICAL, 2), (logging.ERROR, 3), (logging.WARNING, 4), (logging.INFO, 6))
    for floor, priority in levels:
        if levelno >= floor:
            return priority
    return 7


class JournalPrefix(logging.Formatter):
    """Another formatter's line with the `<N>` priority prefix in front of it."""

    def __init__(self, inner: logging.Formatter) -> None:
        super().__init__()
        self.inner = inner

    def format(self, record: logging.LogRecord) -> str:
        prefix = f"<{syslog_priority(record.levelno)}>"
        # A traceback spans lines: each journal line gets the record's priority.
        return "\n".join(prefix + line for line in self.inner.format(record).split("\n"))


def under_journald(stream: TextIO) -> bool:
    """Whether `stream` (stdout) is the journal stream systemd gave us ($JOURNAL_STREAM=dev:ino)."""
    expected = os.environ.get("JOURNAL_STREAM")
    if not expected:
        return False
    try:
        st = os.fstat(stream.fileno())
    except (OSError, ValueError, AttributeError):  # no real file behind it (a test's capture)
        return False
    return expected == f"{st.st_dev}:{st.st_ino}"


def configure(log_format: str, level: int = logging.INFO) -> logging.Handler:
    """Send every log record to stdout (systemd's journal reads it), replacing other handlers."""
    handler = logging.StreamHandler(sys.stdout)
    journal = under_journald(sys.stdout)
    inner: logging.Formatter = (JsonLines() if log_format == "json"
                                else logging.Formatter(JOURNAL_TEXT_FORMAT if journal else TEXT_FORMAT))
    handler.setFormatter(JournalPrefix(inner) if journal else inner)
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(min(root.level or level, level) if root.level else level)
    return handler
