"""The read side: current-state tables → the ledger's row types, and an asset's memory from
the events themselves (see `recall_many`). No writes here."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import Connection, Executable, bindparam, func, select, text

from provenance.ledger.schema import (
    TEACHES_SQL,
    approvals,
    assets,
    events,
    findings,
    gate_decisions,
    locations,
)
from provenance.ledger.state import AssetMemory, asset_changes, declarations_from, untag_withdrawals
from provenance.model import (
    Classification,
    Declarations,
    Finding,
    Remembered,
    Zone,
)

StatKey = tuple[int, int, int, int, int]
_IN_CHUNK = 500  # values per IN (...): well under SQLite's and PostgreSQL's parameter limits
AI_CLASSES = (str(Classification.AI_GENERATED), str(Classification.AI_EDITED))


@dataclass(frozen=True)
class Location:
    """Where an asset was last seen, and what it was then."""

    path: str
    sha256: str | None
    stat_key: StatKey | None
    zone: Zone
    classification: Classification
    seen_at: str
    host: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "sha256": self.sha256,
                "stat_key": list(self.stat_key) if self.stat_key else None, "zone": str(self.zone),
                "classification": str(self.classification), "seen_at": self.seen_at, "host": self.host}


@dataclass(frozen=True)
class AssetSummary:
    """One asset (by content hash) whose latest verdict is AI, with every path it lives at."""

    sha256: str
    paths: tuple[str, ...]
    classification: Classification
    generator: str | None
    declarations: Declarations
    first_seen: str
    last_seen: str
    former_paths: tuple[str, ...] = ()  # paths these bytes have left (removed, or replaced)

    def to_dict(self) -> dict[str, Any]:
        return {"sha256": self.sha256, "paths": list(self.paths), "former_paths": list(self.former_paths),
                "classification": str(self.classification), "generator": self.generator,
                "declarations": self.declarations.to_dict(), "first_seen": self.first_seen,
                "last_seen": self.last_seen}


def stat_key_of(row: Mapping[Any, Any]) -> StatKey | None:
    key = (row["dev"], row["inode"], row["size"], row["mtime_ns"], row["ctime_ns"])
    return None if any(v is None for v in key) else key


def _location(row: Mapping[Any, Any]) -> Location:
    return Location(row["path"], row["sha256"], stat_key_of(row), Zone(row["zone"]),
                    Classification(row["classification"]), row["seen_at"], row["host"])


# Per-file lookups (identify, the daemon, Inspector memory) are built once: constructing a
# statement costs more than running it on SQLite.
_KNOWN_HASH = select(locations.c.sha256).where(
    locations.c.dev == bindparam("dev"), locations.c.inode == bindparam("inode"),
    locations.c.size == bindparam("size"), locations.c.mtime_ns == bindparam("mtime_ns"),
    locations.c.ctime_ns == bindparam("ctime_ns"), locations.c.sha256.is_not(None)).limit(1)
_LOCATION = select(locations).where(locations.c.path == bindparam("path"))

_EVENT_COLUMNS = (events.c.id, events.c.at, events.c.kind, events.c.host, events.c.sha256, events.c.path,
                  events.c.payload)


@cache
def _memory_statements(dialect: str) -> tuple[Executable, Executable, Executable]:
    """(events teaching about a batch of hashes, tags naming one of them as the untagged
    original, every teaching event) — built once per dialect around `TEACHES_SQL`, the
    predicate of the partial index `ix_events_teaching`."""
    teaches = f"({TEACHES_SQL[dialect]})"
    # SQLite has no statistics to see that the partial index holds a few rows, and on a batch
    # of 500 hashes it preferred an OR over the (kind, sha256) index: the payload of every
    # plain verdict of the batch read and parsed. INDEXED BY names the index it must use.
    source = "events INDEXED BY ix_events_teaching" if dialect == "sqlite" else "events"
    columns = ", ".join(c.name for c in _EVENT_COLUMNS)
    for_hashes = (text(f"SELECT {columns} FROM {source} WHERE sha256 IN :hashes AND {teaches}")
                  .bindparams(bindparam("hashes", expanding=True)).columns(*_EVENT_COLUMNS))
    # PostgreSQL has no statistics on the predicate either and, guessing that every row
    # matches, scanned the whole table (2.9 s at 20,000 events); ordered by the partial index's
    # own column it walks that index instead (0.6 ms).
    every = text(f"SELECT {columns} FROM {source} WHERE {teaches} ORDER BY sha256").columns(*_EVENT_COLUMNS)
    # A tag also teaches about the untagged original's hash, which only its payload names;
    # the (kind, sha256) index keeps this to the tag events.
    tags_from = select(*_EVENT_COLUMNS).where(
        events.c.kind == "tag",
        events.c.payload["sha256_before"].as_string().in_(bindparam("hashes", expanding=True)))
    return for_hashes, tags_from, every


def known_hash(conn: Connection, key: StatKey) -> str | None:
    dev, inode, size, mtime_ns, ctime_ns = key
    return conn.execute(_KNOWN_HASH, {"dev": dev, "inode": inode, "size": size, "mtime_ns": mtime_ns,
                                      "ctime_ns": ctime_ns}).scalar_one_or_none()


def known_hashes(conn: Connection, keys: Sequence[StatKey]) -> dict[StatKey, str]:
    """`known_hash` for a batch: one query on (dev, inode) — the stat index's leading
    columns — and the rest of each key compared here."""
    wanted = set(keys)
    out: dict[StatKey, str] = {}
    devs = sorted({k[0] for k in wanted})
    inodes = sorted({k[1] for k in wanted})
    for start in range(0, len(inodes), _IN_CHUNK):
        rows = conn.execute(select(locations.c.dev, locations.c.inode, locations.c.size,
                                   locations.c.mtime_ns, locations.c.ctime_ns, locations.c.sha256)
                            .where(locations.c.dev.in_(devs),
                                   locations.c.inode.in_(inodes[start:start + _IN_CHUNK]),
                                   locations.c.sha256.is_not(None)))
        for r in rows:
            key = (r[0], r[1], r[2], r[3], r[4])
            if key in wanted:
                out[key] = r[5]
    return out


def locations_at(conn: Connection, paths: Sequence[str]) -> dict[str, Location]:
    out: dict[str, Location] = {}
    unique = sorted(set(paths))
    for start in range(0, len(unique), _IN_CHUNK):
        q = select(locations).where(locations.c.path.in_(unique[start:start + _IN_CHUNK]))
        out.update((r["path"], _location(r)) for r in conn.execute(q).mappings())
    return out


def location(conn: Connection, path: str) -> Location | None:
    row = conn.execute(_LOCATION, {"path": path}).mappings().one_or_none()
    return None if row is None else _location(row)


def all_locations(conn: Connection) -> list[Location]:
    return [_location(r) for r in conn.execute(select(locations).order_by(locations.c.path)).mappings()]


Honour = Callable[[Mapping[str, Any]], bool]


def recall_many(conn: Connection, hashes: Sequence[str],
                honour: Honour | None = None) -> dict[str, Remembered]:
    """What the ledger remembers about each hash (AI evidence, declarations), derived from the
    hash-chained events themselves, never from the mutable `assets` columns: an edited
    `assets.remembered` cannot erase it, and an edited event breaks the chain (`ledger verify`,
    a signed checkpoint). Two indexed queries per chunk of hashes; hashes with nothing to
    recall are absent."""
    memory: dict[str, AssetMemory] = {}
    unique = sorted(set(hashes))
    untags = _untag_events(conn, honour) if unique else []
    for start in range(0, len(unique), _IN_CHUNK):
        chunk = unique[start:start + _IN_CHUNK]
        wanted = set(chunk)
        for_hashes, tags_from, _ = _memory_statements(conn.dialect.name)
        rows = [*conn.execute(for_hashes, {"hashes": chunk}).mappings(),
                *conn.execute(tags_from, {"hashes": chunk}).mappings(), *untags]
        _fold(memory, sorted({r["id"]: r for r in rows}.values(), key=lambda r: r["id"]), wanted)
    out = {}
    for sha, m in memory.items():
        recalled = m.recalled()
        if recalled is not None:
            out[sha] = recalled
    return out


def _untag_events(conn: Connection, honour: Honour | None) -> list[Any]:
    """The retractions memory honours (few: one per mistaken tag), read once per recall: only
    those `honour` authenticates (approvals/retraction.py), none without it."""
    rows = conn.execute(select(*_EVENT_COLUMNS).where(events.c.kind == "untag")).mappings()
    return [r for r in rows if honour is not None and honour(dict(r))]


def _fold(memory: dict[str, AssetMemory], evs: Iterable[Mapping[str, Any]], wanted: set[str] | None) -> None:
    """Fold events (in id order) into per-hash memory; an untag withdraws what it names."""
    for ev in evs:
        for sha, changes in asset_changes(ev):
            if wanted is None or sha in wanted:
                memory.setdefault(sha, AssetMemory()).apply(changes, ev["id"])
        for sha, withdrawn, note in untag_withdrawals(ev):
            if wanted is None or sha in wanted:
                memory.setdefault(sha, AssetMemory()).withdraw(withdrawn, note)


def remembered_hashes(conn: Connection, honour: Honour | None = None) -> set[str]:
    """Every hash `recall_many` would answer for (from the events, like `recall_many`)."""
    memory: dict[str, AssetMemory] = {}
    teaching: list[Any] = list(conn.execute(_memory_statements(conn.dialect.name)[2]).mappings())
    _fold(memory, sorted([*teaching, *_untag_events(conn, honour)], key=lambda r: r["id"]), None)
    return {sha for sha, m in memory.items() if m.teaches or m.withdrawn}


def recorded_tags(conn: Connection, sha256: str) -> list[dict[str, Any]]:
    """The tag events that made these bytes (tagged bytes, or a sidecar's untagged ones) and
    that no signed retraction has withdrawn yet, oldest first."""
    # Any recorded retraction counts here: this only keeps `untag` from withdrawing twice.
    withdrawn = {int(e["payload"].get("tag_event") or 0) for e in _untag_events(conn, lambda _: True)}
    q = select(*_EVENT_COLUMNS, events.c.row_hash).where(events.c.kind == "tag", events.c.sha256 == sha256)
    return [dict(r) for r in conn.execute(q.order_by(events.c.id)).mappings() if r["id"] not in withdrawn]


def teaching_events(conn: Connection, sha256: str) -> list[dict[str, Any]]:
    """Every event that taught the ledger something about these bytes, oldest first."""
    for_hashes, tags_from, _ = _memory_statements(conn.dialect.name)
    rows = [*conn.execute(for_hashes, {"hashes": [sha256]}).mappings(),
            *conn.execute(tags_from, {"hashes": [sha256]}).mappings()]
    return [dict(r) for r in sorted({r["id"]: r for r in rows}.values(), key=lambda r: r["id"])]


def open_findings(conn: Connection, path: str | None = None, since: str | None = None) -> list[Finding]:
    """Open findings (at `path`; opened at or after `since`, an ISO time in UTC as events write it)."""
    q = select(findings).where(findings.c.status == "open")
    if path is not None:
        q = q.where(findings.c.path == path)
    if since is not None:
        q = q.where(findings.c.opened_at >= since)
    return [Finding.from_dict(dict(r)) for r in conn.execute(q.order_by(findings.c.id)).mappings()]


def approvals_for(conn: Connection, sha256: str) -> list[dict[str, Any]]:
    rows = conn.execute(select(approvals.c.envelope).where(approvals.c.sha256 == sha256)
                        .order_by(approvals.c.id))
    return [dict(r.envelope) for r in rows]


def ai_assets_from(assets_by_hash: Mapping[str, Mapping[str, Any]],
                   locations_by_path: Mapping[str, Mapping[str, Any]],
                   former_paths: Mapping[str, list[str]] | None = None) -> list[AssetSummary]:
    """AssetSummary rows from asset and location rows (replayed from the chain; see replay.py):
    newest first, each with its paths in order."""
    paths: dict[str, list[str]] = {}
    for path, loc in sorted(locations_by_path.items()):
        if loc.get("sha256"):
            paths.setdefault(loc["sha256"], []).append(path)
    rows = sorted((r for r in assets_by_hash.values() if r["classification"] in AI_CLASSES),
                  key=lambda r: r["sha256"])
    rows.sort(key=lambda r: r["last_seen"], reverse=True)
    return [AssetSummary(r["sha256"], tuple(paths.get(r["sha256"], ())), Classification(r["classification"]),
                         r["generator"], declarations_from(r["declarations"]), r["first_seen"],
                         r["last_seen"], tuple((former_paths or {}).get(r["sha256"], ())))
            for r in rows]


def _count(conn: Connection, table: Any, *where: Any) -> int:
    return int(conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one())


def stats(conn: Connection) -> dict[str, Any]:
    last = conn.execute(select(events.c.id, events.c.at).order_by(events.c.id.desc()).limit(1)).one_or_none()
    return {
        "events": _count(conn, events),
        "last_event_id": last.id if last else None,
        "last_event_at": last.at if last else None,
        "assets": _count(conn, assets),
        "ai_assets": _count(conn, assets, assets.c.classification.in_(AI_CLASSES)),
        "locations": _count(conn, locations),
        "unreadable_locations": _count(conn, locations, locations.c.sha256.is_(None)),
        "open_findings": _count(conn, findings, findings.c.status == "open"),
        "resolved_findings": _count(conn, findings, findings.c.status == "resolved"),
        "approvals": _count(conn, approvals),
        "gate_decisions": _count(conn, gate_decisions),
    }
