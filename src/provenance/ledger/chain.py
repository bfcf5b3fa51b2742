"""The event hash chain: each event commits to the one before it.

row_hash = sha256(prev_hash || "\\n" || canonical JSON of the event's content), where the
content includes the event id, so editing any field, deleting a row (an id gap and a
prev_hash that no longer matches) or reordering rows breaks the chain. The newest
(id, hash) is also kept in `chain_head`, which catches a truncated tail.

Appending is serialised: only the writer holding the chain head may append. On
PostgreSQL that is `SELECT … FOR UPDATE` on the head row (several daemons on several
hosts); on SQLite the write transaction is `BEGIN IMMEDIATE` (see store.py).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from provenance.ledger.schema import chain_head, events

GENESIS = "0" * 64
_PAGE = 5000
# Built once: values go in as parameters, so SQLAlchemy's statement cache key stays cheap
# (literal .values() would make it hash every payload).
_HEAD = select(chain_head.c.last_id, chain_head.c.last_hash).where(chain_head.c.id == 1)
_INSERT = insert(events)
_MOVE_HEAD = update(chain_head).where(chain_head.c.id == 1)
_LOCK = select(chain_head.c.id).where(chain_head.c.id == 1).with_for_update()


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


def canonical(content: Mapping[str, Any]) -> str:
    """Deterministic JSON: sorted keys, no spaces, UTF-8 kept (hashes the same everywhere)."""
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def row_hash(prev_hash: str, content: Mapping[str, Any]) -> str:
    # surrogatepass: a file name that is not UTF-8 (surrogate-escaped) hashes as itself, and
    # every valid string's bytes (so every existing hash) stay exactly as they were.
    return hashlib.sha256(f"{prev_hash}\n{canonical(content)}".encode("utf-8", "surrogatepass")).hexdigest()


def _content(row: Mapping[str, Any]) -> dict[str, Any]:
    return {k: row[k] for k in ("id", "at", "kind", "host", "sha256", "path", "payload")}


@dataclass(frozen=True)
class Appended:
    id: int
    at: str
    row_hash: str
    # Exactly what was hashed (the payload as the JSON column gives it back): what the
    # state tables are derived from, in the same transaction (see state.py).
    content: Mapping[str, Any]


def append(conn: Connection, kind: str, *, host: str | None, sha256: str | None,
           path: str | None, payload: Mapping[str, Any]) -> Appended:
    """Add one event at the chain's head. The caller's transaction must hold the head lock."""
    head = conn.execute(_HEAD).one()
    # Round-trip the payload through JSON so what we hash is exactly what the JSON
    # column gives back later (tuples become lists, enums become strings).
    body = json.loads(canonical(payload))
    content = {"id": head.last_id + 1, "at": now(), "kind": kind, "host": host,
               "sha256": sha256, "path": path, "payload": body}
    digest = row_hash(head.last_hash, content)
    conn.execute(_INSERT, {**content, "prev_hash": head.last_hash, "row_hash": digest})
    conn.execute(_MOVE_HEAD, {"last_id": content["id"], "last_hash": digest})
    return Appended(content["id"], content["at"], digest, content)


def lock_head(conn: Connection) -> None:
    """Take the chain head for this transaction (a row lock on PostgreSQL; on SQLite the
    IMMEDIATE transaction already holds the database's write lock)."""
    conn.execute(_LOCK)


def head(conn: Connection) -> tuple[int, str]:
    row = conn.execute(_HEAD).one()
    return int(row.last_id), str(row.last_hash)


def event_hash(conn: Connection, event_id: int) -> str | None:
    found = conn.execute(select(events.c.row_hash).where(events.c.id == event_id)).scalar_one_or_none()
    return None if found is None else str(found)


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    rows: int
    first_bad: int | None = None
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "rows": self.rows, "first_bad": self.first_bad, "reason": self.reason}


def _rows(conn: Connection) -> Iterator[Mapping[Any, Any]]:
    last = -1
    cols = [events.c[k] for k in ("id", "at", "kind", "host", "sha256", "path", "payload",
                                  "prev_hash", "row_hash")]
    while True:
        page = conn.execute(select(*cols).where(events.c.id > last).order_by(events.c.id)
                            .limit(_PAGE)).mappings().all()
        if not page:
            return
        yield from page
        last = page[-1]["id"]


def verify(conn: Connection, on_row: Callable[[Mapping[str, Any]], None] | None = None) -> ChainReport:
    """Recompute the whole chain; name the first row that does not fit. `on_row` sees every
    event that fits, in order (the state replay rides on this one pass over the events)."""
    expected_prev = GENESIS
    expected_id = 1
    rows = 0
    for row in _rows(conn):
        rows += 1
        if row["id"] != expected_id:
            return ChainReport(False, rows, expected_id,
                               f"event {expected_id} is missing (next is {row['id']}): history was deleted")
        if row["prev_hash"] != expected_prev:
            return ChainReport(False, rows, row["id"],
                               f"event {row['id']} does not follow event {row['id'] - 1} "
                               "(prev_hash mismatch): history was deleted or rewritten")
        if row_hash(row["prev_hash"], _content(row)) != row["row_hash"]:
            return ChainReport(False, rows, row["id"], f"event {row['id']} was edited (hash mismatch)")
        if on_row is not None:
            on_row(row)
        expected_prev = row["row_hash"]
        expected_id += 1
    head = conn.execute(_HEAD).one_or_none()
    if head is None:
        return ChainReport(False, rows, None, "chain head row is missing")
    last_id = expected_id - 1
    if head.last_id != last_id or head.last_hash != expected_prev:
        if head.last_id > last_id:
            return ChainReport(False, rows, last_id + 1,
                               f"events {last_id + 1}..{head.last_id} are missing: the tail was truncated")
        return ChainReport(False, rows, head.last_id + 1 if head.last_id < last_id else last_id,
                           "chain head does not match the newest event: history was rewritten")
    return ChainReport(True, rows)
