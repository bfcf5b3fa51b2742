"""`scan(config, paths)`: reconcile trees against the ledger once, without watching.

The same walk and the same per-file work as the daemon (judged in parallel by
`config.workers` threads); unchanged files are not re-hashed, vanished ones are marked
removed. Files are judged as they are now: there is no settling, so a copy still in
progress is caught by the change check around the read and reported as an error.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from provenance.config import Config
from provenance.model import Finding
from provenance.pathtext import to_text
from provenance.watch.reconcile import ReconcileResult, reconcile
from provenance.watch.worker import Processor

Progress = Callable[[str, int, int | None], None]  # phase ("walk" | "judge"), done, total


@dataclass
class ScanResult:
    files: int = 0
    judged: int = 0
    unchanged: int = 0
    removed: int = 0
    errors: int = 0
    new_findings: list[Finding] = field(default_factory=list)
    open_findings: int = 0
    unreadable_dirs: list[str] = field(default_factory=list)
    duration_s: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"files": self.files, "judged": self.judged, "unchanged": self.unchanged,
                "removed": self.removed, "errors": self.errors,
                "new_findings": [f.to_dict() for f in self.new_findings],
                "open_findings": self.open_findings,
                "unreadable_dirs": [to_text(d) for d in self.unreadable_dirs],
                "duration_s": round(self.duration_s, 3)}


def scan(config: Config, paths: Iterable[str], ledger: Any = None,
         progress: Progress | None = None) -> ScanResult:
    if ledger is None:
        from provenance.ledger import Ledger

        with Ledger.open(config.effective_ledger_url) as owned:
            return scan(config, paths, owned, progress)
    done = 0
    lock = threading.Lock()
    submitted = 0

    def one_done() -> None:
        nonlocal done
        with lock:
            done += 1
            n = done
        if progress is not None:
            progress("judge", n, None)

    processor = Processor(config, ledger, config.workers, keep_findings=True, on_done=one_done)
    processor.start()

    def changed(path: str, _st: object) -> None:
        nonlocal submitted
        submitted += 1
        processor.submit(path)

    def gone(path: str) -> None:
        nonlocal submitted
        submitted += 1
        processor.submit_gone(path)

    try:
        rec: ReconcileResult = reconcile(
            config, ledger, list(paths), changed, gone,
            progress=None if progress is None else (lambda n: progress("walk", n, None)))
        if progress is not None:
            progress("walk-done", rec.seen, submitted)
    finally:
        processor.stop()
    return ScanResult(
        files=rec.seen, judged=rec.changed, unchanged=rec.seen - rec.changed, removed=rec.removed,
        errors=processor.errors, new_findings=list(processor.new_findings),
        open_findings=len(ledger.open_findings()), unreadable_dirs=rec.unreadable_dirs,
        duration_s=rec.duration_s,
    )
