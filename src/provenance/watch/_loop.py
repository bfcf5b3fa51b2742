"""The lifecycle the settler and the reconcile loop share: one named daemon thread running
`_run`, woken through `_cond`, told to end by `_stop` (checked under `_cond`)."""

from __future__ import annotations

import threading


class Loop:
    thread_name = "provenance-loop"

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._stop = False
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._stop = False
        self._thread = threading.Thread(target=self._run, name=self.thread_name, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Ask `_run` to return, then wait for it."""
        with self._cond:
            self._stop = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join()

    def is_alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _run(self) -> None:
        raise NotImplementedError
