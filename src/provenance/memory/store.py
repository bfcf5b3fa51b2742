"""Fingerprints in the ledger's `fingerprints` table, and the AI originals memory is built from.

Fingerprints are a function of the bytes alone, so they are stored as derived state (no
chained event: nothing to prove, everything recomputable) with their definition's
version; a row of another version counts as missing and is recomputed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, delete, insert, select

from provenance.fingerprint.model import VERSION, Fingerprint
from provenance.ledger import Ledger
from provenance.ledger.chain import now
from provenance.ledger.schema import assets, fingerprints, locations
from provenance.model import Evidence, Signal

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


def _write(ledger: Ledger) -> Connection:
    conn = ledger.engine.connect()
    # The ledger's own "begin" hook turns this into BEGIN IMMEDIATE on SQLite (see store.py).
    conn.execution_options(ledger_write=True)
    return conn


def save(ledger: Ledger, prints: Iterable[Fingerprint]) -> int:
    """Store fingerprints (replacing rows of the same sha256); returns how many were written."""
    rows = [{"sha256": f.sha256, "version": f.version, "kind": str(f.kind), "essence": f.essence,
             "duration": f.duration, "data": f.to_json(), "computed_at": now()} for f in prints]
    if not rows:
        return 0
    with _write(ledger) as conn, conn.begin():
        for start in range(0, len(rows), _BATCH):
            part = rows[start:start + _BATCH]
            conn.execute(delete(fingerprints).where(fingerprints.c.sha256.in_([r["sha256"] for r in part])))
            conn.execute(insert(fingerprints), part)
    return len(rows)


def _from_row(row: object) -> Fingerprint:
    r = row._mapping  # type: ignore[attr-defined]
    return Fingerprint.from_row(r["sha256"], r["kind"], r["essence"], r["duration"], r["version"], r["data"])


def load(ledger: Ledger, hashes: Sequence[str]) -> dict[str, Fingerprint]:
    """Current-version fingerprints of these hashes (missing ones are absent)."""
    out: dict[str, Fingerprint] = {}
    if not hashes:  # a batch with no media (the gate asks per batch): no connection at all
        return out
    with ledger.engine.connect() as conn:
        for start in range(0, len(hashes), _BATCH):
            part = list(hashes[start:start + _BATCH])
            for row in conn.execute(select(fingerprints).where(fingerprints.c.sha256.in_(part),
                                                               fingerprints.c.version == VERSION)):
                out[row.sha256] = _from_row(row)
    return out


def missing(ledger: Ledger, hashes: Sequence[str]) -> list[str]:
    """Those of `hashes` with no current-version fingerprint, in order."""
    have: set[str] = set()
    with ledger.engine.connect() as conn:
        for start in range(0, len(hashes), _BATCH):
            part = list(hashes[start:start + _BATCH])
            have.update(conn.execute(select(fingerprints.c.sha256).where(
                fingerprints.c.sha256.in_(part), fingerprints.c.version == VERSION)).scalars())
    return [h for h in hashes if h not in have]


def originals(ledger: Ledger) -> list[Original]:
    """Every asset the ledger remembers as AI, with a current fingerprint.

    Whether an asset is AI comes from the ledger's memory of its hash (`recall_many`, derived
    from the hash-chained events, never from the editable `assets` columns, like the hash
    memory the judge already trusts). Paths and first-seen times only name the original in
    the evidence (and the generator, which the recalled evidence does not always carry)."""
    recalled = ledger.recall_many(sorted(ledger.remembered_hashes()))
    ai: dict[str, Evidence] = {}
    for sha, memory in recalled.items():
        claim = next((e for e in memory.evidence if e.signal in _AI_SIGNALS), None)
        if claim is not None:
            ai[sha] = claim
    prints = load(ledger, sorted(ai))
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
