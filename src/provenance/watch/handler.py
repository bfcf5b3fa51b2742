"""watchdog handler: turn an event into path(s) for the settler. No I/O, never raises.

watchdog calls `dispatch` on its single observer thread; an exception there ends that
thread silently (pipeline.md §1.9) while the emitters keep queueing. So everything here is
inside a firewall, and the work is string handling only: stat-ing, hashing and ledger
writes happen on the settler and worker threads.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from typing import Protocol

from watchdog.events import (
    DirCreatedEvent,
    DirDeletedEvent,
    DirMovedEvent,
    FileClosedEvent,
    FileCreatedEvent,
    FileDeletedEvent,
    FileModifiedEvent,
    FileMovedEvent,
    FileSystemEvent,
    FileSystemEventHandler,
)

from provenance.sidecars import asset_of

log = logging.getLogger(__name__)

# The inotify mask is built from this list. Never opened/closed_no_write: our own hashing
# would feed the queue, and with them watchdog 7.1.0 loops forever on overflow for trees of
# ~4,000+ folders (pipeline.md §1.4). DirModifiedEvent is left out too: it adds
# IN_CLOSE_WRITE|IN_ATTRIB on every folder and carries nothing a file event does not.
EVENT_FILTER: list[type[FileSystemEvent]] = [
    FileCreatedEvent,
    FileMovedEvent,
    FileClosedEvent,
    FileModifiedEvent,
    FileDeletedEvent,
    DirCreatedEvent,
    DirMovedEvent,
    DirDeletedEvent,
]


class EventSink(Protocol):
    """What the handler feeds: the settler. Every method must be cheap and in-memory."""

    def touch(self, path: str, hint: str) -> None: ...

    def removed(self, path: str) -> None: ...

    def dir_appeared(self, path: str) -> None: ...

    def dir_removed(self, path: str) -> None: ...


class WatchHandler(FileSystemEventHandler):
    def __init__(self, sink: EventSink, is_ignored: Callable[[str], bool],
                 on_event: Callable[[], None] | None = None,
                 on_error: Callable[[], None] | None = None) -> None:
        super().__init__()
        self.sink = sink
        self.is_ignored = is_ignored  # swapped on SIGHUP reload
        self._on_event = on_event
        self._on_error = on_error

    def dispatch(self, event: FileSystemEvent) -> None:
        try:
            self._route(event)
        except Exception:  # the firewall: the observer thread must outlive any event
            try:
                log.exception("watch handler failed on %r", event)
                if self._on_error is not None:
                    self._on_error()
            except Exception:
                pass

    def _seen(self, path: str) -> None:
        """An event about a path the daemon watches (not an ignored one: temp files, our own
        state) is what status calls the last event."""
        if self._on_event is not None and not self.is_ignored(path):
            self._on_event()

    def _route(self, event: FileSystemEvent) -> None:
        src = os.fsdecode(event.src_path)
        self._seen(src)
        if isinstance(event, (DirMovedEvent, FileMovedEvent)):
            self._seen(os.fsdecode(event.dest_path))
        if isinstance(event, DirMovedEvent):
            self.sink.dir_removed(src)
            self.sink.dir_appeared(os.fsdecode(event.dest_path))
        elif isinstance(event, DirCreatedEvent):
            self.sink.dir_appeared(src)
        elif isinstance(event, DirDeletedEvent):
            self.sink.dir_removed(src)
        elif isinstance(event, FileMovedEvent):
            # rsync's temp → final name arrives here: the temp was ignored, the final name
            # is new. A move within the tree keeps the bytes but may change the zone.
            self._gone(src)
            self._file(os.fsdecode(event.dest_path), "moved")
        elif isinstance(event, FileDeletedEvent):
            self._gone(src)
        elif isinstance(event, FileClosedEvent):
            self._file(src, "closed")
        elif isinstance(event, FileCreatedEvent):
            self._file(src, "created")
        elif isinstance(event, FileModifiedEvent):
            self._file(src, "modified")

    def _file(self, path: str, hint: str) -> None:
        asset = asset_of(path)
        if asset is not None:
            # A sidecar's asset may need a new verdict (a tag or an approval written beside
            # it); the settler drops it if it does not exist. The file itself settles too:
            # the worker skips it only if its bytes show it really is a sidecar (no I/O here).
            self.sink.touch(str(asset), "sidecar")
        if not self.is_ignored(path):
            self.sink.touch(path, hint)

    def _gone(self, path: str) -> None:
        asset = asset_of(path)
        if asset is not None:
            self.sink.touch(str(asset), "sidecar")
        if not self.is_ignored(path):
            self.sink.removed(path)
