"""What the drivers (gate, disclosure report, approval lookup, judging) need from a ledger:
one protocol, so each of them is typed the same way and a test or another store can stand
in for `provenance.ledger.Ledger` by implementing exactly this.

Deliberately absent: `known_hash(es)` (a path's identity from the `locations` table). The
gate must not take an asset's identity from state it cannot authenticate, so it hashes or
uses its own cache; only the watch daemon, which writes that table, reads it (and it takes
the full `Ledger`, as it writes verdicts, findings and removals).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from provenance.model import Remembered

if TYPE_CHECKING:
    from provenance.ledger.queries import AssetSummary


class HashRecall(Protocol):
    """The ledger's memory of content hashes (the judge's `LedgerHashMemory` reads it)."""

    def recall_many(self, hashes: Sequence[str]) -> Mapping[str, Remembered]: ...
    def remembered_hashes(self) -> set[str]: ...


class LedgerView(HashRecall, Protocol):
    def approvals_for(self, sha256: str) -> list[dict[str, Any]]: ...
    def ai_assets(self) -> list[AssetSummary]: ...
    def record_gate_decision(self, record: dict[str, Any]) -> int: ...
