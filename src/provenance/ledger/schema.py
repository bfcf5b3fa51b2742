"""The ledger's tables, as SQLAlchemy Core metadata: one schema for SQLite and PostgreSQL.

`events` is the truth: append-only, hash-chained (see chain.py). Every other table is
current state derived from the events and written in the same transaction, so queries
never replay history. Timestamps are ISO-8601 UTC strings: they hash identically on both
backends (a DateTime column round-trips differently through sqlite3 and psycopg).
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.engine import Dialect

from provenance.pathtext import from_text, to_text

# 64-bit on PostgreSQL; plain INTEGER on SQLite, which is the rowid alias there.
Id = BigInteger().with_variant(Integer, "sqlite")
Sha = String(64)
When = String(40)



class FsText(TypeDecorator[str]):
    """Text that holds file paths (or messages naming them). A name that is not UTF-8 reaches
    us with surrogate escapes, which neither SQLite nor PostgreSQL will store: it is kept in
    its lossless text form (`provenance.pathtext`) and handed back as the same path."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        return None if value is None else to_text(value)

    def process_result_value(self, value: str | None, dialect: Dialect) -> str | None:
        return None if value is None else from_text(value)


metadata = MetaData()

schema_version = Table(
    "schema_version", metadata,
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("applied_at", When, nullable=False),
)

# id is assigned by the writer holding the chain head (head.last_id + 1), never by a
# sequence: PostgreSQL sequences leave gaps on rollback, and a gap must mean "deleted".
events = Table(
    "events", metadata,
    Column("id", Id, primary_key=True, autoincrement=False),
    Column("at", When, nullable=False),
    Column("kind", String(32), nullable=False),
    Column("host", String(255)),
    Column("sha256", Sha),
    Column("path", FsText),
    Column("payload", JSON, nullable=False),
    Column("prev_hash", Sha, nullable=False),
    Column("row_hash", Sha, nullable=False),
    Index("ix_events_sha256", "sha256"),
    # Since schema version 6. memory reads the tag events, and the events of a batch of hashes
    # by kind (a plain kind index made SQLite scan every verdict event for the latter).
    Index("ix_events_kind_sha256", "kind", "sha256"),
)

# The events that can teach the ledger something about a hash (state.asset_changes says
# what): tags, and verdicts that were AI or carried declarations. SQL text per dialect, used
# verbatim by a partial index (schema version 5) and by the queries that read memory: both
# planners use a partial index only when the query repeats its predicate, and with it a warm
# gate never reads the payloads of the plain verdicts that are nearly all of a ledger.
TEACHES_SQL = {
    "sqlite": "kind = 'tag' OR (kind = 'verdict' AND ("
              "json_extract(payload, '$.verdict.classification') IN ('ai_generated', 'ai_edited')"
              " OR json_extract(payload, '$.verdict.declarations.tool') IS NOT NULL"
              " OR json_extract(payload, '$.verdict.declarations.tool_version') IS NOT NULL"
              " OR json_extract(payload, '$.verdict.declarations.purpose') IS NOT NULL"
              " OR json_extract(payload, '$.verdict.declarations.risks[0]') IS NOT NULL))",
    "postgresql": "kind = 'tag' OR (kind = 'verdict' AND ("
                  "(payload #>> '{verdict,classification}') IN ('ai_generated', 'ai_edited')"
                  " OR (payload #>> '{verdict,declarations,tool}') IS NOT NULL"
                  " OR (payload #>> '{verdict,declarations,tool_version}') IS NOT NULL"
                  " OR (payload #>> '{verdict,declarations,purpose}') IS NOT NULL"
                  " OR (payload #>> '{verdict,declarations,risks,0}') IS NOT NULL))",
}
_TEACHING = Index("ix_events_teaching", events.c.sha256, events.c.id,
                  sqlite_where=text(TEACHES_SQL["sqlite"]))
_DIALECTS_READY: set[str] = set()


def for_dialect(name: str) -> None:
    """Give the schema what only `name` needs, before its DDL runs (migrations call this).
    PostgreSQL's partial-index predicate is attached here, not above: naming a dialect's
    option loads that dialect, and SQLAlchemy's PostgreSQL one (with its asyncpg and psycopg
    modules) was a sixth of every SQLite command's SQLAlchemy import."""
    if name == "postgresql" and name not in _DIALECTS_READY:
        _TEACHING.dialect_kwargs["postgresql_where"] = text(TEACHES_SQL["postgresql"])
    _DIALECTS_READY.add(name)

# One row (id = 1): the serialisation point for writers and the guard against a
# truncated tail (its last_id/last_hash must match the newest event).
chain_head = Table(
    "chain_head", metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("last_id", Id, nullable=False),
    Column("last_hash", Sha, nullable=False),
)

assets = Table(
    "assets", metadata,
    Column("sha256", Sha, primary_key=True),
    Column("format", String(32)),
    Column("size", BigInteger),
    Column("classification", String(32), nullable=False),  # latest verdict or tag
    Column("generator", Text),
    Column("declarations", JSON),
    Column("first_seen", When, nullable=False),
    Column("last_seen", When, nullable=False),
    # What the hash is remembered as from non-ledger evidence (tags, sidecars, C2PA):
    # survives later verdicts that lost that evidence (a copy without its sidecar).
    Column("remembered", String(32)),
    Column("remembered_generator", Text),
    Column("remembered_from", FsText),
    Column("remembered_event", Id),
    # True when `declarations` holds anything (tool, purpose or risks): lets the gate ask for
    # every hash with something to recall in one indexable query. Since schema version 3.
    Column("declared", Boolean, nullable=False, server_default=false()),
)

locations = Table(
    "locations", metadata,
    Column("path", FsText, primary_key=True),
    Column("sha256", Sha),  # None when the file could not be read
    Column("dev", BigInteger),
    Column("inode", BigInteger),
    Column("size", BigInteger),
    Column("mtime_ns", BigInteger),
    Column("ctime_ns", BigInteger),
    Column("zone", String(16), nullable=False),
    Column("classification", String(32), nullable=False),
    Column("host", String(255)),
    Column("seen_at", When, nullable=False),
    Column("event_id", Id, nullable=False),
    Index("ix_locations_stat", "dev", "inode", "size", "mtime_ns", "ctime_ns"),
    Index("ix_locations_sha256", "sha256"),
)

# open_key is "rule\x1fsha256\x1fpath" while open and NULL once resolved: a plain unique
# constraint then means "unique among open findings" on both backends (NULLs are distinct).
findings = Table(
    "findings", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("open_key", FsText, unique=True),
    Column("rule", String(64), nullable=False),
    Column("principle", Text, nullable=False),
    Column("sha256", Sha),
    Column("path", FsText, nullable=False),
    Column("classification", String(32), nullable=False),
    Column("message", FsText, nullable=False),
    Column("clears_with", JSON, nullable=False),
    Column("blocking", Boolean, nullable=False),
    Column("status", String(16), nullable=False),
    Column("opened_at", When, nullable=False),
    Column("resolved_at", When),
    Column("resolution", Text),
    Index("ix_findings_sha256", "sha256"),
    Index("ix_findings_path", "path"),  # since schema version 2
)

approvals = Table(
    "approvals", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("envelope_digest", Sha, nullable=False),
    Column("sha256", Sha, nullable=False),
    Column("approver", Text, nullable=False),
    Column("scopes", JSON, nullable=False),
    Column("reference", Text, nullable=False),
    Column("expires_at", When),
    Column("recorded_at", When, nullable=False),
    Column("envelope", JSON, nullable=False),
    Column("event_id", Id, nullable=False),
    UniqueConstraint("envelope_digest", name="uq_approvals_envelope"),
    Index("ix_approvals_sha256", "sha256"),
)

gate_decisions = Table(
    "gate_decisions", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("at", When, nullable=False),
    Column("result", String(32)),
    Column("record", JSON, nullable=False),
    Column("event_id", Id, nullable=False),
)

# Content fingerprints (provenance.fingerprint), one row per sha256: derived from the bytes
# alone, so not an event (recomputable, nothing to prove); `version` is the fingerprint
# definition's, and rows of another version are recomputed rather than compared.
# Since schema version 6.
fingerprints = Table(
    "fingerprints", metadata,
    Column("sha256", Sha, primary_key=True),
    Column("version", Integer, nullable=False),
    Column("kind", String(16), nullable=False),
    Column("essence", Sha),
    Column("duration", Float),
    Column("data", JSON, nullable=False),
    Column("computed_at", When, nullable=False),
    Index("ix_fingerprints_essence", "essence"),
)
