"""Versioned schema migrations: an ordered list of functions and a `schema_version` table.

Hand-rolled rather than Alembic: the ledger must migrate itself when any command opens
it (a daemon on a NAS head, the gate on a transfer node), with no migration scripts
directory or `alembic.ini` to ship, and the schema so far is additive. Each migration
runs in one transaction together with its version row, so a crash leaves the previous
version intact (DDL is transactional on both PostgreSQL and SQLite). Concurrent openers
are serialised: an advisory lock on PostgreSQL, the IMMEDIATE write lock on SQLite.

To change the schema: append `(N + 1, function)` to MIGRATIONS; never edit an old one.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Connection, Engine, func, insert, inspect, select, text, update
from sqlalchemy.exc import SQLAlchemyError

from provenance.errors import LedgerError
from provenance.ledger.chain import GENESIS, now
from provenance.ledger.schema import (
    assets,
    chain_head,
    events,
    findings,
    fingerprints,
    for_dialect,
    metadata,
    schema_version,
)
from provenance.ledger.state import declarations_from
from provenance.model import Declarations

_MIGRATION_LOCK = 0x70726F76  # "prov": the advisory-lock key for migrations on PostgreSQL


def _v1_initial(conn: Connection) -> None:
    metadata.create_all(conn)
    conn.execute(insert(chain_head).values(id=1, last_id=0, last_hash=GENESIS))


def _v2_findings_by_path(conn: Connection) -> None:
    # The daemon asks "what is open at this path?" for every file it re-judges.
    # checkfirst: a ledger created at v2+ already has it from create_all in v1.
    next(i for i in findings.indexes if i.name == "ix_findings_path").create(conn, checkfirst=True)


def _v3_declared_assets(conn: Connection) -> None:
    # The gate recalls declared risks for copies that lost their tags; it needs the set of
    # hashes with declarations in one query. A ledger created at v3+ has the column already.
    if "declared" not in {c["name"] for c in inspect(conn).get_columns("assets")}:
        conn.execute(text("ALTER TABLE assets ADD COLUMN declared BOOLEAN NOT NULL DEFAULT FALSE"))
    rows = conn.execute(select(assets.c.sha256, assets.c.declarations)).all()
    declared = [r.sha256 for r in rows if declarations_from(r.declarations) != Declarations()]
    for start in range(0, len(declared), 500):
        conn.execute(update(assets).where(assets.c.sha256.in_(declared[start:start + 500]))
                     .values(declared=True))


def _v4_events_by_kind(conn: Connection) -> None:
    # Memory is derived from the events (never from the mutable `assets` columns), and a tag
    # names the untagged original's hash only in its payload: the gate reads the tag events
    # by kind instead of scanning the whole chain.
    next(i for i in events.indexes if i.name == "ix_events_kind_sha256").create(conn, checkfirst=True)


def _v5_teaching_events(conn: Connection) -> None:
    # Memory is read from the events that teach something (schema.TEACHES_SQL); a partial
    # index over just those keeps the gate from reading every plain verdict's payload.
    next(i for i in events.indexes if i.name == "ix_events_teaching").create(conn, checkfirst=True)


def _v6_fingerprints(conn: Connection) -> None:
    # Content memory (issue 11): a new table, nothing existing changes. A ledger created
    # at v6+ has it from create_all in v1.
    fingerprints.create(conn, checkfirst=True)


MIGRATIONS: list[tuple[int, Callable[[Connection], None]]] = [
    (1, _v1_initial),
    (2, _v2_findings_by_path),
    (3, _v3_declared_assets),
    (4, _v4_events_by_kind),
    (5, _v5_teaching_events),
    (6, _v6_fingerprints),
]
LATEST = MIGRATIONS[-1][0]


def current_version(conn: Connection) -> int:
    if not inspect(conn).has_table("schema_version"):
        return 0
    return int(conn.execute(select(func.coalesce(func.max(schema_version.c.version), 0))).scalar_one())


def _current(engine: Engine) -> bool:
    """Whether the schema is at LATEST already, in one read: no write lock (another process's
    gate or daemon is not kept waiting), no reflection. Anything else (no ledger yet, an older
    or newer schema, an error) is for `migrate`'s locked path to decide and to say."""
    try:
        with engine.connect() as conn, conn.begin():
            version = conn.execute(select(func.max(schema_version.c.version))).scalar()
    except SQLAlchemyError:
        return False
    return version == LATEST


def migrate(engine: Engine, begin_write: Callable[[], object], create: bool = True) -> int:
    """Bring the schema to LATEST; returns the version now in force."""
    for_dialect(engine.dialect.name)
    if _current(engine):  # every open after the first: one cheap query
        return LATEST
    with begin_write() as conn:  # type: ignore[attr-defined]
        if engine.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _MIGRATION_LOCK})
        version = current_version(conn)
        if version == 0 and not create:
            raise LedgerError(f"no ledger schema in {engine.url.render_as_string(hide_password=True)}")
        if version > LATEST:
            raise LedgerError(f"ledger schema version {version} is newer than this provenance "
                              f"(knows up to {LATEST}): upgrade provenance")
        for number, step in MIGRATIONS:
            if number > version:
                step(conn)
                conn.execute(insert(schema_version).values(version=number, applied_at=now()))
                version = number
    return version
