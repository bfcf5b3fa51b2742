"""Fingerprints in the ledger's `fingerprints` table, and the AI originals memory is built from.

Fingerprints are a function of the bytes alone, so they are stored as derived state (no
chained event: nothing to prove, everything recomputable) with their definition's
version; a row of another version counts as missing and is recomputed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, delete, insert, or_, select

from provenance.fingerprint.model import VERSION, Fingerprint
from provenance.ledger import Ledger
from provenance.ledger.chain import now
from provenance.ledger.queries import AI_CLASSES
from provenance.ledger.schema import assets, fingerprints, locations

_BATCH = 500


@dataclass(frozen=True)
class Original:
    """An AI asset in memory: what a derivative's evidence names."""

    fingerprint: Fingerprint
    classification: str
    generator: str | None
    paths: tuple[str, ...]  # where the ledger saw these bytes
    tagged: str | None  # "tagged at PATH, WHEN" when the AI class came from a tag or sidecar
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
    """Every asset the ledger knows as AI (by its latest verdict or by what it remembers),
    with a current fingerprint."""
    ai = or_(assets.c.classification.in_(AI_CLASSES), assets.c.remembered.in_(AI_CLASSES))
    query = (select(fingerprints, assets.c.classification.label("cls"), assets.c.generator,
                    assets.c.remembered, assets.c.remembered_generator, assets.c.remembered_from,
                    assets.c.first_seen)
             .join(assets, assets.c.sha256 == fingerprints.c.sha256)
             .where(ai, fingerprints.c.version == VERSION))
    with ledger.engine.connect() as conn:
        rows = conn.execute(query).all()
        paths: dict[str, list[str]] = {}
        shas = [r.sha256 for r in rows]
        for start in range(0, len(shas), _BATCH):
            for sha, path in conn.execute(select(locations.c.sha256, locations.c.path).where(
                    locations.c.sha256.in_(shas[start:start + _BATCH])).order_by(locations.c.path)):
                paths.setdefault(sha, []).append(path)
    out = []
    for r in rows:
        remembered_ai = r.remembered in AI_CLASSES
        tagged = r.remembered_from if remembered_ai else None
        listed = paths.get(r.sha256, [])
        if not listed and tagged and tagged.startswith("tagged at "):
            listed = [tagged.removeprefix("tagged at ").rsplit(", ", 1)[0]]
        out.append(Original(
            fingerprint=_from_row(r),
            classification=r.cls if r.cls in AI_CLASSES else r.remembered,
            generator=r.generator or r.remembered_generator,
            paths=tuple(listed), tagged=tagged, first_seen=r.first_seen))
    return out
