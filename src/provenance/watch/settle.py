"""When is a landed file complete? A per-path state machine, on its own thread.

seen (any event, or a scan) → settling: every new event restarts the quiet timer →
stable: no event for `settle_s` AND the same (size, mtime, inode, ctime) on two stat
looks `settle_s / 2` apart → ready (handed to the workers).

Closed and moved events are only hints: `mv` into the tree gives no close, an append
writer closes several times, and `rsync --inplace`/`cp` expose the final name while it
is still growing (pipeline.md §1.5-1.6). A writer that produces no events at all (NFS,
mmap) is still caught, because the two looks must agree before the file is ready.

The handler's calls (touch, removed, ...) only update memory under a lock, so the
observer thread never blocks on I/O or on a full work queue; this thread does the
stat-ing and the (blocking) hand-off.
"""

from __future__ import annotations

import heapq
import logging
import os
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from provenance.identify import StatKey, stat_key
from provenance.watch._loop import Loop

log = logging.getLogger(__name__)



@dataclass
class _Pending:
    last_event: float
    due: float
    hint: str
    look: StatKey | None = None
    generation: int = 0  # bumped by every event, so a look taken meanwhile is discarded


class Settler(Loop):
    """Collects paths from the handler and releases each once it is stable.

    `ready(path)`, `gone(path)` and `gone_tree(dir)` are called on this object's thread
    and may block (backpressure from a bounded work queue lands here, not on watchdog).
    """

    thread_name = "provenance-settle"

    def __init__(self, settle_s: float, ready: Callable[[str], None], gone: Callable[[str], None],
                 gone_tree: Callable[[str], None], is_ignored: Callable[[str], bool],
                 clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self.settle_s = settle_s
        self.is_ignored = is_ignored  # swapped on SIGHUP reload
        self._ready = ready
        self._gone = gone
        self._gone_tree = gone_tree
        self._clock = clock
        self._pending: dict[str, _Pending] = {}
        # (due, generation, path); stale entries (older generation, or removed) are skipped
        # when popped, so a burst of N events costs O(N log N), not a scan of every path.
        self._heap: list[tuple[float, int, str]] = []
        self._removals: deque[tuple[str, str]] = deque()  # ("file"|"tree"|"walk", path)
        self._wake_at = float("inf")
        self._busy = False  # a batch taken from the maps but not yet handed on

    # -- called from the observer thread: memory only ---------------------------------

    def touch(self, path: str, hint: str) -> None:
        now = self._clock()
        with self._cond:
            p = self._pending.get(path)
            due = now + self.settle_s / 2
            if p is None:
                p = self._pending[path] = _Pending(last_event=now, due=due, hint=hint)
            else:
                p.last_event, p.due, p.look, p.hint = now, due, None, hint
                p.generation += 1
            heapq.heappush(self._heap, (due, p.generation, path))
            if due < self._wake_at:
                self._cond.notify()

    def removed(self, path: str) -> None:
        with self._cond:
            self._pending.pop(path, None)
            self._removals.append(("file", path))
            self._cond.notify()

    def dir_appeared(self, path: str) -> None:
        # inotify already simulates events for files inside a folder moved in; polling
        # reports them too. The walk is a cheap safety net for files created before the
        # new folder's watch existed.
        with self._cond:
            self._removals.append(("walk", path))
            self._cond.notify()

    def dir_removed(self, path: str) -> None:
        prefix = path.rstrip(os.sep) + os.sep
        with self._cond:
            for p in [p for p in self._pending if p.startswith(prefix)]:
                del self._pending[p]
            self._removals.append(("tree", path))
            self._cond.notify()

    # -- state --------------------------------------------------------------------------

    def __len__(self) -> int:
        with self._cond:
            return len(self._pending)

    def quiet(self) -> bool:
        """No removals waiting and no batch in hand (with `len() == 0`: nothing in flight)."""
        with self._cond:
            return not self._removals and not self._busy

    # -- the settle thread ----------------------------------------------------------------

    def _run(self) -> None:
        while True:
            with self._cond:
                if self._stop:
                    return
                removals = list(self._removals)
                self._removals.clear()
                now = self._clock()
                due: list[tuple[str, int]] = []
                while self._heap and self._heap[0][0] <= now:
                    when, generation, path = heapq.heappop(self._heap)
                    p = self._pending.get(path)
                    if p is not None and p.generation == generation and p.due == when:
                        due.append((path, generation))
                if not removals and not due:
                    self._wake_at = self._heap[0][0] if self._heap else float("inf")
                    timeout = None if self._wake_at == float("inf") else max(0.0, self._wake_at - now)
                    self._cond.wait(timeout)
                    self._wake_at = float("inf")
                    continue
                self._busy = True
            try:
                self._hand_off_removals(removals)
                self._check(due)
            except Exception:  # this thread is the only way files become ready: keep it alive
                log.exception("settle thread error (continuing)")
            finally:
                with self._cond:
                    self._busy = False

    def _hand_off_removals(self, removals: list[tuple[str, str]]) -> None:
        for kind, path in removals:
            if kind == "file":
                self._gone(path)
            elif kind == "tree":
                self._gone_tree(path)
            else:
                self._walk(path)

    def _walk(self, top: str) -> None:
        for folder, _dirs, files in os.walk(top):
            for name in files:
                path = os.path.join(folder, name)
                if not self.is_ignored(path):
                    self.touch(path, "scan")

    def _check(self, due: list[tuple[str, int]]) -> None:
        ready: list[str] = []
        for path, generation in due:
            look = stat_key(path)  # outside the lock: stat can be slow on a NAS
            now = self._clock()
            with self._cond:
                p = self._pending.get(path)
                if p is None or p.generation != generation:
                    continue  # removed, or a new event arrived while we looked
                if look is None:
                    del self._pending[path]  # gone (a delete event follows) or not a file
                elif p.look == look and now - p.last_event >= self.settle_s:
                    del self._pending[path]
                    ready.append(path)
                else:
                    # First look, or it changed without telling us: look again later.
                    p.look = look
                    p.due = max(now + self.settle_s / 2, p.last_event + self.settle_s)
                    heapq.heappush(self._heap, (p.due, p.generation, path))
        for path in ready:
            self._ready(path)
