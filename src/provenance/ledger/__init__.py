"""The ledger: append-only, hash-chained events plus current state, on SQLite or PostgreSQL.

    with Ledger.open(config.effective_ledger_url) as ledger:
        with Inspector(settings, memory=ledger, known_hash=ledger.known_hash) as inspector:
            verdict = inspector.inspect(path)
        ledger.record_verdict(verdict, stat_key, zone)
"""

from provenance.ledger.chain import ChainReport
from provenance.ledger.queries import AssetSummary, Location, StatKey
from provenance.ledger.store import Ledger, filesystem_type, is_network_fstype, redacted

__all__ = [
           "AssetSummary",
           "ChainReport",
           "Ledger",
           "Location",
           "StatKey",
           "filesystem_type",
           "is_network_fstype",
           "redacted",
]
