"""Fingerprints in the ledger's `fingerprints` table, and the AI originals memory is built from.

Fingerprints are a function of the bytes alone, stored with their definition's version; a
row older than its kind's current definition (`Fingerprint.current`) counts as missing and
is recomputed. But a row decides deliveries
(an original's row is what its derivatives are matched against; a file's own row is what
it is matched with on a warm run), and whoever can write the database could edit one so an
AI derivative clears. So every row is authenticated by the hash chain: `save` appends a
`fingerprint` event recording the digest of the row it writes, in the same transaction,
and a row counts only when its digest is the one its latest event records (the chain, and
signed checkpoints of it, are what `ledger verify` checks; it names every edited, unrecorded
or deleted row). A file's own row that does not verify is recomputed from the file; an AI
original's recorded row that is edited or gone cannot be recomputed (its file may be gone),
so memory refuses to be built and every judgement is undecided until the ledger is repaired
(fail closed: deleting rows must not be a way to forget).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, delete, insert, select

from provenance.errors import LedgerError
from provenance.fingerprint.model import COMPARABLE_VERSIONS, Fingerprint
from provenance.ledger import Ledger, chain, state
from provenance.ledger.chain import now
from provenance.ledger.schema import assets, events, fingerprints, locations
from provenance.model import Evidence, Signal

log = logging.getLogger(__name__)

_BATCH = 500
_AI_SIGNALS = (Signal.AI_GENERATED, Signal.AI_EDITED)


@dataclass(frozen=True)
class Original:
    """An AI asset in memory: what a derivative's evidence names."""

    fingerprint: Fingerprint
    classification: str
    generator: str | None
    paths: tuple[str, ...]  # where the ledger saw these bytes
    tagged: str | None  # what the ledger remembers: "ai_generated (tagged at PATH, WHEN)" and the like
    first_seen: str

    @property
    def sha256(self) -> str:
        return self.fingerprint.sha256

    @property
    def name(self) -> str:
        return self.paths[0].rsplit("/", 1)[-1] if self.paths else self.sha256[:12]


EVENT = "fingerprint"


def save(ledger: Ledger, prints: Iterable[Fingerprint]) -> int:
    """Store fingerprints (replacing rows of the same sha256), each with the chained event
    that authenticates it; returns how many were written."""
    # One representation: the row as the JSON column gives it back, so its digest is stable.
    rows = [{"sha256": f.sha256, "version": f.version, "kind": str(f.kind), "essence": f.essence,
             "duration": f.duration, "data": json.loads(json.dumps(f.to_json())), "computed_at": now()}
            for f in prints]
    if not rows:
        return 0
    # The ledger's own write transaction: its head lock orders these events with every other writer.
    with ledger._write() as conn:
        for start in range(0, len(rows), _BATCH):
            part = rows[start:start + _BATCH]
            conn.execute(delete(fingerprints).where(fingerprints.c.sha256.in_([r["sha256"] for r in part])))
            conn.execute(insert(fingerprints), part)
            for r in part:
                chain.append(conn, EVENT, host=ledger.host, sha256=r["sha256"], path=None,
                             payload={"version": r["version"], "digest": state.fingerprint_digest(r)})
    return len(rows)


def _recorded(conn: Connection, hashes: Sequence[str]) -> dict[str, dict[str, Any]]:
    """The latest `fingerprint` event's record per sha256 (version, digest)."""
    out: dict[str, dict[str, Any]] = {}
    for sha, payload in conn.execute(select(events.c.sha256, events.c.payload).where(
            events.c.kind == EVENT, events.c.sha256.in_(list(hashes))).order_by(events.c.id)):
        out[sha] = state.fingerprint_record({"payload": payload})
    return out


def _verified(conn: Connection, hashes: Sequence[str], versions: frozenset[int]
              ) -> tuple[dict[str, Fingerprint], set[str]]:
    """(rows of one of `versions` that match their events, hashes whose latest record is of
    one of `versions` but has no matching row: edited or deleted)."""
    out: dict[str, Fingerprint] = {}
    bad: set[str] = set()
    for start in range(0, len(hashes), _BATCH):
        part = list(hashes[start:start + _BATCH])
        recorded = _recorded(conn, part)
        for row in conn.execute(select(fingerprints).where(fingerprints.c.sha256.in_(part),
                                                           fingerprints.c.version.in_(sorted(versions)))):
            want = recorded.get(row.sha256)
            if want == {"version": row.version, "digest": state.fingerprint_digest(dict(row._mapping))}:
                out[row.sha256] = _from_row(row)
            else:
                log.warning("fingerprint row of %s does not match the ledger's chain: not used", row.sha256)
        bad.update(sha for sha, want in recorded.items() if want["version"] in versions and sha not in out)
    return out, bad


def _from_row(row: object) -> Fingerprint:
    r = row._mapping  # type: ignore[attr-defined]
    return Fingerprint.from_row(r["sha256"], r["kind"], r["essence"], r["duration"], r["version"], r["data"])


def load(ledger: Ledger, hashes: Sequence[str]) -> dict[str, Fingerprint]:
    """Current fingerprints of these hashes that the chain authenticates (missing, older,
    edited and unrecorded ones are absent: the caller recomputes them from the file)."""
    if not hashes:  # a batch with no media (the gate asks per batch): no connection at all
        return {}
    with ledger.engine.connect() as conn:
        return {sha: fp for sha, fp in _verified(conn, hashes, COMPARABLE_VERSIONS)[0].items() if fp.current}


def missing(ledger: Ledger, hashes: Sequence[str]) -> list[str]:
    """Those of `hashes` with no authenticated current fingerprint, in order."""
    have = load(ledger, hashes)
    return [h for h in hashes if h not in have]


def ai_claims(ledger: Ledger) -> dict[str, Evidence]:
    """sha256 → the AI evidence the ledger's hash-chained memory holds for it (every AI asset)."""
    ai: dict[str, Evidence] = {}
    for sha, memory in ledger.recall_many(sorted(ledger.remembered_hashes())).items():
        claim = next((e for e in memory.evidence if e.signal in _AI_SIGNALS), None)
        if claim is not None:
            ai[sha] = claim
    return ai


def comparable(ledger: Ledger, hashes: Sequence[str]) -> set[str]:
    """Those of `hashes` with an authenticated fingerprint memory compares (COMPARABLE_VERSIONS)."""
    if not hashes:
        return set()
    with ledger.engine.connect() as conn:
        return set(_verified(conn, hashes, COMPARABLE_VERSIONS)[0])


def originals(ledger: Ledger) -> list[Original]:
    """Every asset the ledger remembers as AI, with a current fingerprint.

    Whether an asset is AI comes from the ledger's memory of its hash (`recall_many`, derived
    from the hash-chained events, never from the editable `assets` columns, like the hash
    memory the judge already trusts). Paths and first-seen times only name the original in
    the evidence (and the generator, which the recalled evidence does not always carry)."""
    ai = ai_claims(ledger)
    with ledger.engine.connect() as conn:
        prints, bad = _verified(conn, sorted(ai), COMPARABLE_VERSIONS)
    if bad:
        shown = ", ".join(sorted(bad)[:3]) + (f" and {len(bad) - 3} more" if len(bad) > 3 else "")
        raise LedgerError(f"the fingerprints of {len(bad)} AI original(s) in the ledger were edited or "
                          f"deleted ({shown}): content memory cannot be trusted until `provenance ledger "
                          f"verify` is clean (restore the rows from a backup, or judge the originals again)")
    shas = sorted(prints)
    paths: dict[str, list[str]] = {}
    first_seen: dict[str, str] = {}
    generators: dict[str, str | None] = {}
    with ledger.engine.connect() as conn:
        for start in range(0, len(shas), _BATCH):
            part = shas[start:start + _BATCH]
            for sha, path in conn.execute(select(locations.c.sha256, locations.c.path).where(
                    locations.c.sha256.in_(part)).order_by(locations.c.path)):
                paths.setdefault(sha, []).append(path)
            for sha, seen, tool in conn.execute(select(assets.c.sha256, assets.c.first_seen,
                                                       assets.c.generator).where(assets.c.sha256.in_(part))):
                first_seen[sha] = seen
                generators[sha] = tool
    return [Original(fingerprint=prints[sha], classification=str(ai[sha].signal),
                     generator=ai[sha].generator or generators.get(sha),
                     paths=tuple(paths.get(sha, ())), tagged=ai[sha].value,
                     first_seen=first_seen.get(sha, ""))
            for sha in shas]
