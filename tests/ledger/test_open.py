"""Opening a ledger whose schema is current is one read: no write lock, no reflection; and
each backend still gets its own DDL (the partial index's predicate) when the schema is made."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

from sqlalchemy import text

from provenance.ledger import Ledger
from provenance.ledger.migrations import LATEST


def test_each_backend_gets_the_partial_teaching_index(ledger: Ledger) -> None:
    sql = {"sqlite": "SELECT sql FROM sqlite_master WHERE name = 'ix_events_teaching'",
           "postgresql": "SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_events_teaching'"}
    with ledger.engine.connect() as conn:
        definition = conn.execute(text(sql[ledger.backend])).scalar_one()
    # The predicate is that backend's own (JSON functions differ), not a full index.
    assert "WHERE" in definition.upper()
    assert ("json_extract" if ledger.backend == "sqlite" else "#>>") in definition


def test_a_current_ledger_opens_while_another_process_holds_the_write_lock(tmp_path: Path) -> None:
    db = tmp_path / "ledger.db"
    Ledger.open(f"sqlite:///{db}").close()  # made and migrated once
    writer = sqlite3.connect(db, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")  # a daemon in the middle of a write
    try:
        # A gate starting now reads the version and goes on: before, every open took the
        # write lock to check the schema and waited out the writer (up to busy_timeout).
        with Ledger.open(f"sqlite:///{db}") as ledger:
            assert ledger.schema_version == LATEST
    finally:
        writer.execute("ROLLBACK")
        writer.close()


def test_an_older_schema_is_still_migrated(tmp_path: Path) -> None:
    db = tmp_path / "ledger.db"
    Ledger.open(f"sqlite:///{db}").close()
    with sqlite3.connect(db) as conn:  # as a ledger from before the latest migration
        conn.execute("DELETE FROM schema_version WHERE version = ?", (LATEST,))
    with Ledger.open(f"sqlite:///{db}") as ledger:
        assert ledger.schema_version == LATEST
        with ledger.engine.connect() as c:
            assert c.execute(text("SELECT max(version) FROM schema_version")).scalar_one() == LATEST


def test_a_sqlite_ledger_does_not_load_the_postgresql_dialect(tmp_path: Path) -> None:
    script = ("import sys\nfrom provenance.ledger import Ledger\n"
              f"Ledger.open('sqlite:///{tmp_path / 'ledger.db'}').close()\n"
              "print('sqlalchemy.dialects.postgresql' in sys.modules)")
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert run.stdout.strip() == "False", run.stderr
