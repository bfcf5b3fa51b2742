"""The delivery gate: refuse a handoff while it holds AI material without valid written approval.

`gate(paths, config, ledger)` → `GateResult` (per-asset status, summary line, exit code
0 clear / 1 blocked / 3 could not decide). Reports live in `provenance.report`.
"""

from provenance.gate.core import decision_record, gate
from provenance.gate.result import AssetResult, FileOutcome, GateResult, Status

__all__ = ["AssetResult", "FileOutcome", "GateResult", "Status", "decision_record", "gate"]
