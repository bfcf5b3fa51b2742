"""`Ledger`: open (and migrate) a SQLite or PostgreSQL ledger, append events, keep state.

Every write is one transaction that (1) takes the chain head, (2) appends one hash-chained
event, (3) updates the current-state tables. Holding the head first serialises writers
across threads, processes and hosts, so the read-check-write steps inside (idempotence
checks, upserts) cannot race and need no dialect-specific upsert.

SQLite: WAL, synchronous=NORMAL, busy_timeout, foreign keys, set per connection; write
transactions are `BEGIN IMMEDIATE` (a deferred BEGIN that later writes can deadlock into
SQLITE_BUSY); readers use plain BEGIN and see a snapshot. The file must be on a local
disk: WAL's shared memory does not work over NFS/SMB, so a network path is refused.
PostgreSQL: `postgresql+psycopg://` (a bare `postgresql://` is mapped to psycopg 3).
"""

from __future__ import annotations

import os
import socket
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, create_engine, event, exc, insert, select, update
from sqlalchemy.engine import URL, make_url
from sqlalchemy.pool import StaticPool

from provenance._os import make_dirs
from provenance.errors import LedgerError
from provenance.ledger import chain, queries, state
from provenance.ledger.chain import ChainReport
from provenance.ledger.migrations import migrate
from provenance.ledger.queries import AI_CLASSES, AssetSummary, Location, StatKey
from provenance.ledger.replay import Difference, Replay
from provenance.ledger.schema import approvals, assets, findings, gate_decisions, locations
from provenance.model import Classification, Declarations, Finding, Remembered, Verdict, Zone

NETWORK_FSTYPES = ("nfs", "nfs4", "cifs", "smb", "smb2", "smb3", "smbfs", "fuse.sshfs", "9p",
                   "afs", "ceph", "glusterfs", "fuse.glusterfs", "lustre", "gpfs", "beegfs")
BUSY_TIMEOUT_MS = 30_000
MOUNTS = "/proc/mounts"

# Hot-path statements built once, values passed as parameters (cheap statement cache keys).
_LOCATION_AT = select(locations).where(locations.c.path == bindparam("at_path"))
_INSERT_LOCATION = insert(locations)
_UPDATE_LOCATION = update(locations).where(locations.c.path == bindparam("at_path"))
_ASSET_AT = select(assets.c.sha256, assets.c.declarations).where(assets.c.sha256 == bindparam("at_sha"))
_INSERT_ASSET = insert(assets)
_UPDATE_ASSET = update(assets).where(assets.c.sha256 == bindparam("at_sha"))


def _unescape_mount(field: str) -> str:
    # /proc/mounts escapes space, tab, newline and backslash as octal.
    return (field.replace("\\040", " ").replace("\\011", "\t").replace("\\012", "\n")
            .replace("\\134", "\\"))


def filesystem_type(path: str | os.PathLike[str],
                    mounts: str | os.PathLike[str] | None = None) -> str | None:
    """The fstype of the mount holding `path` (longest mount-point prefix), or None if unknown."""
    target = os.path.realpath(path)
    try:
        lines = Path(mounts or MOUNTS).read_text().splitlines()
    except OSError:
        return None
    best, best_type = "", None
    for line in lines:
        parts = line.split()
        if len(parts) < 3:
            continue
        point = _unescape_mount(parts[1])
        inside = target == point or target.startswith(point.rstrip("/") + "/")
        if inside and len(point) >= len(best):
            best, best_type = point, parts[2]
    return best_type


def is_network_fstype(fstype: str | None) -> bool:
    return fstype is not None and (fstype in NETWORK_FSTYPES or fstype.startswith(("nfs", "smb", "cifs")))


# Beside a SQLite database, what SQLite reads back into it: a hot rollback journal is rolled
# back into the file on open, the WAL's frames are read as pages, -shm indexes them.
SQLITE_COMPANIONS = ("-wal", "-journal", "-shm")


def sqlite_file(url: str | URL) -> Path | None:
    """The file a SQLite URL names (absolute, as `Ledger.open` opens it); None for an in-memory
    database or another backend. LedgerError when `url` is not a database URL."""
    try:
        u = make_url(url) if isinstance(url, str) else url
    except exc.ArgumentError:
        raise LedgerError(f"not a database URL: {redacted(url)}") from None
    database = u.database or ""
    memory = database in ("", ":memory:") or database.startswith("file::memory:")
    if u.get_backend_name() != "sqlite" or memory:
        return None
    return Path(database).expanduser().absolute()


def _sqlite_engine(url: Any, allow_network_fs: bool, create: bool) -> Engine:
    db = sqlite_file(url)
    if db is None:
        engine = create_engine(url, poolclass=StaticPool, connect_args={"check_same_thread": False})
    else:
        if not create and not db.is_file():
            raise LedgerError("no ledger here (the file does not exist)", db)
        try:
            make_dirs(db.parent)  # not group-writable whatever the umask: see `check_protected`
        except OSError as e:
            raise LedgerError(f"cannot create the ledger folder: {e.strerror}", db.parent) from None
        fstype = filesystem_type(db.parent)
        if is_network_fstype(fstype) and not allow_network_fs:
            raise LedgerError(
                f"the SQLite ledger is on a network filesystem ({fstype}); SQLite WAL does not work "
                "there and the ledger would corrupt. Keep ledger.db on the watcher's local disk, or "
                "use a PostgreSQL ledger ([ledger] url = \"postgresql+psycopg://...\") shared by "
                "several hosts", db)
        engine = create_engine(url.set(database=str(db)),
                               connect_args={"check_same_thread": False,
                                             "timeout": BUSY_TIMEOUT_MS / 1000})

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_conn: Any, _record: Any) -> None:
        # Let us issue BEGIN ourselves (pysqlite's implicit BEGIN is deferred and late).
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        if db is not None:
            _enable_wal(cur)
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("ledger_write")
                             else "BEGIN")

    return engine


def _enable_wal(cur: Any) -> None:
    """Switch to WAL, waiting for other processes opening the same new ledger.

    The switch needs an exclusive lock and SQLite may answer "database is locked" at once
    instead of calling the busy handler, so two processes opening a fresh ledger together
    (the daemon starting while `provenance tag` runs) would fail half the time.
    """
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            if str(cur.execute("PRAGMA journal_mode").fetchone()[0]).lower() != "wal":
                cur.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as e:
            if "locked" not in str(e) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def _make_engine(url: str, allow_network_fs: bool, create: bool) -> Engine:
    try:
        u = make_url(url)
    except exc.ArgumentError:
        raise LedgerError(f"not a database URL: {url!r}") from None
    backend = u.get_backend_name()
    if backend == "sqlite":
        return _sqlite_engine(u, allow_network_fs, create)
    if backend == "postgresql":
        if u.get_driver_name() != "psycopg":
            u = u.set(drivername="postgresql+psycopg")
        return create_engine(u, pool_pre_ping=True, connect_args={"connect_timeout": 10})
    raise LedgerError(f"unsupported ledger backend {backend!r} (use sqlite:/// or postgresql+psycopg://)")


def redacted(url: str | URL) -> str:
    """A database URL fit for logs, status files and reports: no password, neither in the
    user-info part nor as a `password=` query parameter (libpq accepts both)."""
    try:
        u = make_url(url) if isinstance(url, str) else url
    except exc.ArgumentError:
        return "<not a database URL>"
    if "password" in u.query:
        u = u.update_query_dict({"password": "***"})
    return u.render_as_string(hide_password=True)


def _safe(engine: Engine) -> str:
    return redacted(engine.url)


class Ledger:
    """The append-only, hash-chained record of assets, verdicts, tags, findings, approvals.

    Thread-safe: each call uses its own pooled connection. Several processes (and hosts,
    on PostgreSQL) may share one ledger.
    """

    def __init__(self, engine: Engine, host: str | None = None) -> None:
        self.engine = engine
        self.backend = engine.dialect.name
        self.host = host or socket.gethostname()
        # Which `untag` retractions memory honours (approvals.retraction.honour over the
        # host's authenticated registry, set by the judge); None: none, memory keeps saying AI.
        self.retractions: queries.Honour | None = None
        # SQLite has one writer anyway; queue our own threads here instead of in its
        # busy handler, which sleeps in coarse steps.
        self._write_lock: AbstractContextManager[Any] = (
            threading.Lock() if self.backend == "sqlite" else nullcontext())
        self.schema_version = 0

    @classmethod
    def open(cls, url: str, *, host: str | None = None, allow_network_fs: bool = False,
             create: bool = True) -> Ledger:
        """Connect, create or migrate the schema. LedgerError (exit 3) if it cannot be reached.

        `create=False` is for auditing (`ledger verify`): a missing ledger is an error, not
        a fresh empty one that would verify as "ok".
        """
        engine = _make_engine(url, allow_network_fs, create)
        ledger = cls(engine, host)
        try:
            ledger.schema_version = migrate(engine, ledger._begin_write, create)
        except exc.SQLAlchemyError as e:
            engine.dispose()
            raise LedgerError(f"cannot open ledger {_safe(engine)}: {_reason(e)}") from None
        except BaseException:
            engine.dispose()
            raise
        return ledger

    @property
    def url(self) -> str:
        return _safe(self.engine)

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- transactions ---------------------------------------------------------------

    @contextmanager
    def _begin_write(self) -> Iterator[Connection]:
        with self._write_lock, self.engine.connect() as conn:
            conn.execution_options(ledger_write=True)
            with conn.begin():
                yield conn

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        try:
            with self._begin_write() as conn:
                chain.lock_head(conn)
                yield conn
        except exc.SQLAlchemyError as e:
            raise LedgerError(f"ledger write failed ({self.url}): {_reason(e)}") from None

    @contextmanager
    def _read(self, snapshot: bool = False) -> Iterator[Connection]:
        try:
            with self.engine.connect() as conn:
                if snapshot and self.backend == "postgresql":
                    # verify() reads the events and then the head: both from one snapshot.
                    conn.execution_options(isolation_level="REPEATABLE READ")
                with conn.begin():
                    yield conn
        except exc.SQLAlchemyError as e:
            raise LedgerError(f"ledger read failed ({self.url}): {_reason(e)}") from None

    def _append(self, conn: Connection, kind: str, sha256: str | None, path: str | None,
                payload: dict[str, Any], host: str | None = None) -> chain.Appended:
        return chain.append(conn, kind, host=host or self.host, sha256=sha256, path=path, payload=payload)

    # -- read side ------------------------------------------------------------------

    def known_hash(self, stat_key: StatKey) -> str | None:
        """The sha256 recorded for exactly this (dev, inode, size, mtime_ns, ctime_ns)."""
        with self._read() as conn:
            return queries.known_hash(conn, tuple(stat_key))  # type: ignore[arg-type]

    def known_hashes(self, keys: Sequence[StatKey]) -> dict[StatKey, str]:
        """`known_hash` for a batch of files in one round trip (a burst, a reconcile)."""
        if not keys:
            return {}
        with self._read() as conn:
            return queries.known_hashes(conn, keys)

    def location(self, path: str) -> Location | None:
        with self._read() as conn:
            return queries.location(conn, str(path))

    def locations_at(self, paths: Sequence[str]) -> dict[str, Location]:
        """`location` for a batch; paths the ledger has never seen are absent."""
        if not paths:
            return {}
        with self._read() as conn:
            return queries.locations_at(conn, [str(p) for p in paths])

    def locations(self) -> Iterator[Location]:
        with self._read() as conn:
            rows = queries.all_locations(conn)
        return iter(rows)

    def recall_many(self, hashes: Sequence[str]) -> dict[str, Remembered]:
        """HashMemory: what these hashes earned earlier from tags, sidecars or C2PA — AI
        evidence and declarations — for copies that lost them (one query per batch)."""
        if not hashes:
            return {}
        with self._read() as conn:
            return queries.recall_many(conn, hashes, self.retractions)

    def remembered_hashes(self) -> set[str]:
        """The hashes `recall_many` answers for: one query instead of one per file (the gate)."""
        with self._read() as conn:
            return queries.remembered_hashes(conn, self.retractions)

    def memory_generation(self) -> tuple[int, str]:
        """(id, row hash) of the newest event that is not a gate decision; (0, "") for none.
        Every write that can teach memory is an event, so a gate's cached decisions hold only
        while this is unchanged; a gate's own decision record does not move it."""
        from provenance.ledger.schema import events

        q = (select(events.c.id, events.c.row_hash).where(events.c.kind != "gate_decision")
             .order_by(events.c.id.desc()).limit(1))
        with self._read() as conn:
            row = conn.execute(q).first()
        return (int(row[0]), str(row[1])) if row is not None else (0, "")

    def open_findings(self, since: str | None = None) -> list[Finding]:
        with self._read() as conn:
            return queries.open_findings(conn, since=since)

    def open_findings_at(self, path: str) -> list[Finding]:
        """The open findings of the file at `path` (indexed; the daemon asks per file)."""
        with self._read() as conn:
            return queries.open_findings(conn, str(path))

    def approvals_for(self, sha256: str) -> list[dict[str, Any]]:
        with self._read() as conn:
            return queries.approvals_for(conn, sha256)

    def ai_assets(self) -> list[AssetSummary]:
        """Every asset whose latest verdict or tag is AI, with every path it lives at — for the
        disclosure report, derived from a replay of the verified event chain, never from the
        editable `assets`/`locations` tables (where `UPDATE assets SET classification='not_ai'`
        would drop an asset from what the studio is told). LedgerError if the chain does not
        verify: a disclosure from edited history would be worse than none."""
        replay = Replay()
        with self._read(snapshot=True) as conn:
            report = chain.verify(conn, on_row=replay.apply)
        if not report.ok:
            raise LedgerError(f"the ledger's history does not verify ({report.reason}); run "
                              f"`provenance ledger verify` ({self.url})")
        return queries.ai_assets_from(replay.assets, replay.locations, replay.former_paths)

    def stats(self) -> dict[str, Any]:
        with self._read() as conn:
            out = queries.stats(conn)
        return {**out, "backend": self.backend, "url": self.url, "schema_version": self.schema_version}

    def head(self) -> tuple[int, str]:
        """The newest event's (id, row hash): what a signed checkpoint commits to."""
        with self._read() as conn:
            return chain.head(conn)

    def event_hash(self, event_id: int) -> str | None:
        """The row hash recorded for event `event_id`, or None if there is no such event."""
        with self._read() as conn:
            return chain.event_hash(conn, event_id)

    def verify(self) -> ChainReport:
        with self._read(snapshot=True) as conn:
            return chain.verify(conn)

    def audit(self) -> tuple[ChainReport, list[Difference] | None]:
        """The chain's report, and every way the state tables differ from what the events say
        (None when the chain itself does not verify: there is no trusted history to compare
        with). One pass over the events, one snapshot."""
        replay = Replay()
        with self._read(snapshot=True) as conn:
            report = chain.verify(conn, on_row=replay.apply)
            return report, (replay.differences(conn) if report.ok else None)

    # -- writes ---------------------------------------------------------------------

    def record_verdict(self, verdict: Verdict, asset_stat_key: Sequence[int] | None, zone: Zone,
                       host: str | None = None) -> bool:
        """Record what `verdict.path` is now. False if this exact (path, sha256, stat key) —
        with the same classification and zone — is already the location's record, so a
        restart or a reconcile re-run adds nothing."""
        with self._write() as conn:
            return self._record_verdict(conn, verdict, asset_stat_key, zone, host)

    def record_verdicts(self, items: Iterable[tuple[Verdict, Sequence[int] | None, Zone]],
                        host: str | None = None) -> list[bool]:
        """`record_verdict` for a batch in ONE transaction (a burst of files, a reconcile):
        one commit instead of one per file. All or nothing."""
        with self._write() as conn:
            return [self._record_verdict(conn, v, k, z, host) for v, k, z in items]

    def _record_verdict(self, conn: Connection, verdict: Verdict, asset_stat_key: Sequence[int] | None,
                        zone: Zone, host: str | None) -> bool:
        key = tuple(int(v) for v in asset_stat_key) if asset_stat_key is not None else None
        cls = str(verdict.classification)
        current = conn.execute(_LOCATION_AT, {"at_path": verdict.path}).mappings().one_or_none()
        if (current is not None and current["sha256"] == verdict.sha256
                and queries.stat_key_of(current) == key and current["classification"] == cls
                and current["zone"] == str(zone)):
            return False
        payload = {"verdict": verdict.to_dict(), "stat_key": list(key) if key else None, "zone": str(zone)}
        ev = self._append(conn, "verdict", verdict.sha256, verdict.path, payload, host)
        if verdict.sha256 is not None:
            [(_, changes)] = state.asset_changes(ev.content)
            self._upsert_asset(conn, verdict.sha256, ev, changes)
        loc = state.location_row(ev.content)
        if current is None:
            conn.execute(_INSERT_LOCATION, loc)
        else:
            del loc["path"]
            conn.execute(_UPDATE_LOCATION, {"at_path": verdict.path, **loc})
        return True

    def _upsert_asset(self, conn: Connection, sha256: str, ev: chain.Appended,
                      changes: dict[str, Any]) -> None:
        exists = conn.execute(_ASSET_AT, {"at_sha": sha256}).mappings().one_or_none()
        values = state.asset_values(exists, at=ev.at, event_id=ev.id, **changes)
        if exists is None:
            conn.execute(_INSERT_ASSET, {"sha256": sha256, "first_seen": ev.at, **values})
        else:
            conn.execute(_UPDATE_ASSET, {"at_sha": sha256, **values})

    def record_removed(self, path: str) -> None:
        """The file at `path` is gone (its asset, by hash, is still remembered)."""
        path = str(path)
        with self._write() as conn:
            sha = conn.execute(select(locations.c.sha256).where(locations.c.path == path)).one_or_none()
            if sha is None:
                return
            self._append(conn, "removed", sha.sha256, path, {})
            conn.execute(locations.delete().where(locations.c.path == path))

    def record_tag(self, path: str, sha256_before: str | None, sha256_after: str,
                   classification: Classification, declarations: Declarations,
                   prior: dict[str, Any] | None = None, by: Mapping[str, str] | None = None) -> None:
        """An artist tagged `path`: both the tagged bytes and the untagged original are
        remembered under their hashes (a copy of either elsewhere is still known). `prior` is
        what the tag replaced outside our own namespace (an untag restores it); `by` who
        tagged ({"user": OS user, "signer": the C2PA signing identity when it signed})."""
        path = str(path)
        cls = str(classification)
        with self._write() as conn:
            payload = {"sha256_before": sha256_before, "sha256_after": sha256_after,
                       "classification": cls, "declarations": declarations.to_dict()}
            if prior is not None:
                payload["prior"] = prior
            if by:
                payload["by"] = dict(by)
            ev = self._append(conn, "tag", sha256_after, path, payload)
            for sha, changes in state.asset_changes(ev.content):
                self._upsert_asset(conn, sha, ev, changes)

    def recorded_tags(self, sha256: str) -> list[dict[str, Any]]:
        with self._read() as conn:
            return queries.recorded_tags(conn, sha256)

    def teaching_events(self, sha256: str) -> list[dict[str, Any]]:
        with self._read() as conn:
            return queries.teaching_events(conn, sha256)

    def record_untag(self, path: str, sha256_tagged: str, payload: dict[str, Any]) -> int:
        """A signed retraction of one tag event (tagging/untag.py; the payload carries the DSSE
        envelope and exactly which events' teaching it withdraws per hash). The tag event stays:
        history is kept, and memory folds the retraction in (state.untag_withdrawals)."""
        with self._write() as conn:
            return self._append(conn, "untag", sha256_tagged, str(path), payload).id

    def open_finding(self, f: Finding) -> bool:
        """True only if newly opened; the same (rule, sha256, path) stays one open finding."""
        key = state.open_key(f.rule, f.sha256, f.path)
        with self._write() as conn:
            if conn.execute(select(findings.c.id).where(findings.c.open_key == key)).first():
                return False
            ev = self._append(conn, "finding_opened", f.sha256, f.path, f.to_dict())
            conn.execute(insert(findings).values(**state.finding_row(ev.content)))
            return True

    def resolve_findings(self, sha256: str, rules: Iterable[str] | None, reason: str, *,
                         path: str | None = None) -> int:
        """Close the open findings on this hash (all rules, or only `rules`; every path, or
        only `path`); returns how many. An approval clears the bytes wherever they are; a
        file leaving one path clears only that path."""
        wanted = None if rules is None else sorted(set(rules))
        with self._write() as conn:
            q = select(findings.c.id, findings.c.rule, findings.c.path).where(
                findings.c.status == "open", findings.c.sha256 == sha256)
            if wanted is not None:
                q = q.where(findings.c.rule.in_(wanted))
            if path is not None:
                q = q.where(findings.c.path == str(path))
            rows = conn.execute(q.order_by(findings.c.id)).all()
            if not rows:
                return 0
            ev = self._append(conn, "findings_resolved", sha256, None, {
                "reason": reason, "findings": [{"id": r.id, "rule": r.rule, "path": r.path} for r in rows]})
            conn.execute(update(findings).where(findings.c.id.in_([r.id for r in rows]))
                         .values(**state.resolved_values(ev.content)))
            return len(rows)

    def record_approval(self, envelope: dict[str, Any], sha256: str, approver: str, scopes: Sequence[str],
                        reference: str, expires_at: str | None) -> None:
        """Keep a signed approval (the DSSE envelope itself); recording it twice is a no-op."""
        digest = state.envelope_digest(envelope)
        with self._write() as conn:
            if conn.execute(select(approvals.c.id).where(approvals.c.envelope_digest == digest)).first():
                return
            ev = self._append(conn, "approval", sha256, None, {
                "envelope": envelope, "approver": approver, "scopes": [str(s) for s in scopes],
                "reference": reference, "expires_at": expires_at})
            conn.execute(insert(approvals).values(**state.approval_row(ev.content)))

    def record_gate_decision(self, record: dict[str, Any]) -> int:
        """Keep one gate run's decision record; returns its id."""
        with self._write() as conn:
            ev = self._append(conn, "gate_decision", None, None, record)
            out = conn.execute(insert(gate_decisions).values(**state.gate_decision_row(ev.content)))
            key = out.inserted_primary_key
            assert key is not None  # an INSERT always has one
            return int(key[0])


def _reason(e: exc.SQLAlchemyError) -> str:
    orig = getattr(e, "orig", None)
    text = str(orig if orig is not None else e).strip()
    return text.splitlines()[0] if text else type(e).__name__


__all__ = ["AI_CLASSES", "Ledger", "filesystem_type", "is_network_fstype"]
