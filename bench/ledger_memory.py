"""What recalling memory costs the gate, now that memory is derived from the events.

A SQLite ledger with N verdict events (1 in 100 AI, the rest plain verdicts with a dozen
evidence rows each, as the watcher records a show), then, against it:
  remembered_hashes()                 the gate's one query up front
  recall_many(all N hashes)           chunks of 500
  recall_many per batch of 32         what a driver asking per batch pays
Run it against this tree, and against an older tree as the baseline (same script, same load):

    PYTHONPATH=src .venv/bin/python bench/ledger_memory.py [N] [DB]
"""

from __future__ import annotations

import dataclasses
import hashlib
import sys
import tempfile
import time
from pathlib import Path

from provenance.ledger import Ledger
from provenance.model import Classification, Evidence, Signal, Verdict, Zone


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def verdict(i: int) -> Verdict:
    if i % 100 == 0:
        ev = (Evidence("xmp", "Iptc4xmpExt:DigitalSourceType", "trainedAlgorithmicMedia",
                       Signal.AI_GENERATED, "Firefly"),)
        return Verdict(path=f"/show/w/{i}.exr", sha256=sha(str(i)), format="exr", size=100,
                       classification=Classification.AI_GENERATED, evidence=ev, generator="Firefly")
    plain = Verdict(path=f"/show/w/{i}.jpg", sha256=sha(str(i)), format="jpeg", size=10,
                    classification=Classification.NOT_AI)
    evidence = tuple(Evidence("exif", f"Tag{j}", "x" * 40) for j in range(12))
    return dataclasses.replace(plain, evidence=evidence)


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    db = Path(sys.argv[2]) if len(sys.argv) > 2 else Path(tempfile.mkdtemp()) / "ledger.db"
    fresh = not db.exists()
    with Ledger.open(f"sqlite:///{db}") as ledger:
        if fresh:
            for start in range(0, n, 1000):
                ledger.record_verdicts([(verdict(i), (1, i, 100, 1, 1), Zone.WORKING)
                                        for i in range(start, min(n, start + 1000))])
        hashes = [sha(str(i)) for i in range(n)]
        t = time.perf_counter()
        remembered = ledger.remembered_hashes()
        up_front = time.perf_counter() - t
        t = time.perf_counter()
        recalled = ledger.recall_many(hashes)
        everything = time.perf_counter() - t
        t = time.perf_counter()
        for s in range(0, n, 32):
            ledger.recall_many(hashes[s:s + 32])
        batches = time.perf_counter() - t
        print(f"events={ledger.stats()['events']} schema={ledger.schema_version} "
              f"remembered_hashes {up_front * 1000:.0f} ms ({len(remembered)}); "
              f"recall_many(all) {everything * 1000:.0f} ms ({len(recalled)}); "
              f"per batch of 32 {batches * 1000:.0f} ms")


if __name__ == "__main__":
    main()
