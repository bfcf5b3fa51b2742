"""What the drivers (gate, disclosure report, approval lookup, judging) need from a ledger:
one protocol, so each of them is typed the same way and a test or another store can stand
in for `provenance.ledger.Ledger` by implementing exactly this.

The watch daemon writes (verdicts, findings, removals) and so takes the full `Ledger`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from provenance.identify import StatKey
from provenance.model import Remembered

if TYPE_CHECKING:
    from provenance.ledger.queries import AssetSummary


class LedgerView(Protocol):
    def known_hash(self, stat_key: StatKey) -> str | None: ...
    def known_hashes(self, keys: Sequence[StatKey]) -> dict[StatKey, str]: ...
    def recall_many(self, hashes: Sequence[str]) -> Mapping[str, Remembered]: ...
    def remembered_hashes(self) -> set[str]: ...
    def approvals_for(self, sha256: str) -> list[dict[str, Any]]: ...
    def ai_assets(self) -> list[AssetSummary]: ...
    def record_gate_decision(self, record: dict[str, Any]) -> int: ...
