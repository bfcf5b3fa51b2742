"""Ledger write/read/verify speed against raw sqlite3 doing the least comparable work.

Baselines (same process, same disk, same pragmas: WAL, synchronous=NORMAL):
  write   raw sqlite3, one INSERT of one row per transaction (what a daemon does per file
          without a chain or current-state tables) vs Ledger.record_verdict (event + chain
          head + asset upsert + location upsert, one transaction), and vs
          Ledger.record_verdicts in batches of 100 (one transaction per batch).
  lookup  raw sqlite3 indexed SELECT on the stat key vs Ledger.known_hash.
  verify  raw sqlite3 SELECT of every event + one sha256 per row vs Ledger.verify().

    .venv/bin/python bench/ledger.py [N] [--postgres URL]
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

from provenance.ledger import Ledger
from provenance.model import Classification, Evidence, Signal, Verdict, Zone


def verdict(i: int) -> Verdict:
    digest = hashlib.sha256(str(i).encode()).hexdigest()
    ev = Evidence("xmp", "Iptc4xmpExt:DigitalSourceType", "trainedAlgorithmicMedia", Signal.AI_GENERATED, "X")
    return Verdict(path=f"/show/final/shot_{i:06d}.exr", sha256=digest, format="exr", size=1000 + i,
                   classification=Classification.AI_GENERATED, evidence=(ev,), generator="X")


def key(i: int) -> tuple[int, int, int, int, int]:
    return (2049, 100_000 + i, 1000 + i, 1_700_000_000_000_000_000 + i, 1_700_000_000_000_000_000 + i)


def timed(fn) -> float:  # type: ignore[no-untyped-def]
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def raw_baseline(folder: Path, n: int) -> tuple[float, float, float]:
    db = sqlite3.connect(folder / "raw.db", isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("CREATE TABLE events (id INTEGER PRIMARY KEY, path TEXT, sha256 TEXT, dev INT, inode INT,"
               " size INT, mtime_ns INT, ctime_ns INT, payload TEXT)")
    db.execute("CREATE INDEX ix ON events (dev, inode, size, mtime_ns, ctime_ns)")

    def write() -> None:
        for i in range(n):
            v = verdict(i)
            db.execute("BEGIN")
            db.execute("INSERT INTO events VALUES (NULL,?,?,?,?,?,?,?,?)",
                       (v.path, v.sha256, *key(i), json.dumps(v.to_dict())))
            db.execute("COMMIT")

    def lookup() -> None:
        for i in range(n):
            db.execute("SELECT sha256 FROM events WHERE dev=? AND inode=? AND size=? AND mtime_ns=? "
                       "AND ctime_ns=?", key(i)).fetchone()

    def scan() -> None:
        for row in db.execute("SELECT * FROM events ORDER BY id"):
            hashlib.sha256(repr(row).encode()).hexdigest()

    out = timed(write), timed(lookup), timed(scan)
    db.close()
    return out


def ledger_run(url: str, n: int) -> tuple[float, float, float, float]:
    with Ledger.open(url) as ledger:
        w = timed(lambda: [ledger.record_verdict(verdict(i), key(i), Zone.FINAL) for i in range(n)])
        b = timed(lambda: [ledger.record_verdicts([(verdict(j), key(j), Zone.WORKING)
                                                  for j in range(i, min(i + 100, n))])
                           for i in range(0, n, 100)])
        r = timed(lambda: [ledger.known_hash(key(i)) for i in range(n)])
        report_holder = []
        v = timed(lambda: report_holder.append(ledger.verify()))
        assert report_holder[0].ok and report_holder[0].rows == 2 * n
    return w, b, r, v


def main() -> None:
    args = sys.argv[1:]
    n = int(args[0]) if args and args[0].isdigit() else 5000
    pg = args[args.index("--postgres") + 1] if "--postgres" in args else None
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        base = raw_baseline(folder, n)
        runs = {"sqlite": ledger_run(f"sqlite:///{folder / 'ledger.db'}", n)}
        if pg:
            runs["postgres"] = ledger_run(pg, n)
    print(f"N={n}")
    print(f"{'':10}{'write/s':>10}{'batch100/s':>12}{'lookup/s':>11}{'verify rows/s':>15}"
          "   ratio to raw sqlite3 (write / batch / lookup / verify)")
    print(f"{'raw':10}{n / base[0]:10.0f}{'':>12}{n / base[1]:11.0f}{n / base[2]:15.0f}")
    for name, (w, b, r, v) in runs.items():
        print(f"{name:10}{n / w:10.0f}{n / b:12.0f}{n / r:11.0f}{2 * n / v:15.0f}   "
              f"{base[0] / w:.2f} / {base[0] / b:.2f} / {base[1] / r:.2f} / {base[2] * 2 / v:.2f}")


if __name__ == "__main__":
    main()
