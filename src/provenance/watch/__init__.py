"""The watch daemon: watchdog events → settle → work queue → verdicts, findings, ledger.

`run(config, stop_event)` is the long-running watcher (`provenance watch`);
`scan(config, paths)` reconciles trees once (`provenance scan`).
"""

from __future__ import annotations

from provenance.watch.daemon import Daemon, run
from provenance.watch.scan import ScanResult, scan

__all__ = ["Daemon", "ScanResult", "run", "scan"]
