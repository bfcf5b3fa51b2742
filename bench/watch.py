"""Benchmark the watch daemon against a stat-only walk of the same tree.

1. latency: AI PNGs written one at a time into final/; time from the end of the last write
   (close) to the finding's `opened_at` in the ledger. p50/p99, and p50/p99 beyond settle.
2. throughput: N small PNGs dropped at once into working/; files/s from the first write to
   the last location recorded.
3. scale: F files in D folders ingested, then the daemon's RSS while watching them, and the
   time of a no-change reconcile vs a stat-only walk (os.walk + os.stat) of the same tree.

    .venv/bin/python bench/watch.py [--latency 100] [--burst 10000] [--files 100000 --dirs 10000]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

from PIL import Image
from PIL.PngImagePlugin import PngInfo
from sqlalchemy import func, select

from provenance.config import load_config
from provenance.ledger import Ledger
from provenance.ledger.schema import findings, locations
from provenance.watch.daemon import Daemon
from provenance.watch.reconcile import reconcile

SETTLE = 0.5


def png(seed: int, ai: bool) -> bytes:
    info = PngInfo()
    info.add_text("parameters" if ai else "Comment",
                  f"p {seed}\nSteps: 20, Sampler: Euler a, Seed: {seed}, Model: sd15" if ai else f"c {seed}")
    buf = io.BytesIO()
    colour = (seed % 256, seed // 256 % 256, seed // 65536 % 256)
    Image.new("RGB", (8, 8), colour).save(buf, "PNG", pnginfo=info)
    return buf.getvalue()


def show(base: Path, workers: int = 2) -> Path:
    s = base / "show"
    (s / "working").mkdir(parents=True)
    (s / "final").mkdir()
    (s / "provenance.toml").write_text(
        f"[watch]\nsettle_seconds = {SETTLE}\nreconcile_seconds = 3600\nworkers = {workers}\n")
    return s


def ts(iso: str) -> float:
    return datetime.fromisoformat(iso).timestamp()


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, round(p / 100 * (len(xs) - 1)))]


def wait(cond, timeout: float = 3600, interval: float = 0.02) -> None:
    end = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > end:
            raise TimeoutError
        time.sleep(interval)


def in_process(s: Path):
    config = load_config(s / "provenance.toml")
    ledger = Ledger.open(config.effective_ledger_url)
    d = Daemon(config, ledger)
    d.start()
    wait(lambda: d.reconciler.runs >= 1 and d.idle())
    return d, ledger


def bench_latency(n: int, base: Path) -> dict:
    s = show(base)
    d, ledger = in_process(s)
    written: dict[str, float] = {}
    try:
        for i in range(n):
            p = s / "final" / f"l{i:04d}.png"
            with open(p, "wb") as fh:
                fh.write(png(i, ai=True))
            written[str(p)] = time.time()
            time.sleep(0.1)
        def count() -> int:
            with ledger.engine.connect() as c:  # a fresh snapshot each time (WAL readers see a fixed one)
                return len(c.execute(select(findings.c.path).where(findings.c.rule == "temporary-material"))
                           .all())
        wait(lambda: count() >= n)
        with ledger.engine.connect() as c:
            rows = c.execute(select(findings.c.path, findings.c.opened_at)
                             .where(findings.c.rule == "temporary-material")).all()
    finally:
        d.stop()
        ledger.close()
    lat = [ts(r.opened_at) - written[r.path] for r in rows]
    beyond = [x - SETTLE for x in lat]
    return {"files": n, "settle_s": SETTLE, "p50_s": round(pct(lat, 50), 3), "p99_s": round(pct(lat, 99), 3),
            "p50_beyond_settle_ms": round(1000 * pct(beyond, 50)),
            "p99_beyond_settle_ms": round(1000 * pct(beyond, 99))}


def bench_burst(n: int, base: Path, workers: int) -> dict:
    s = show(base, workers)
    d, ledger = in_process(s)
    src = base / "src"
    src.mkdir()
    for i in range(n):
        (src / f"b{i:05d}.png").write_bytes(png(100_000 + i, ai=False))
    drop = s / "working" / "drop"
    try:
        t0 = time.time()
        # another process drops them, as on real storage (`cp -r`: created, modified, closed each)
        subprocess.run(["cp", "-r", str(src), str(drop)], check=True)
        t_written = time.time()
        prefix = str(drop) + os.sep
        mine = locations.c.path.like(prefix + "%")

        def count() -> int:  # COUNT(*) every 0.25 s: the harness must not starve the daemon's GIL
            with ledger.engine.connect() as c:
                return int(c.execute(select(func.count()).select_from(locations).where(mine)).scalar_one())
        wait(lambda: count() >= n, interval=0.25)
        with ledger.engine.connect() as c:
            last = max(ts(r.seen_at) for r in c.execute(select(locations.c.seen_at)
                                                         .where(mine)))
    finally:
        d.stop()
        ledger.close()
    return {"files": n, "workers": workers, "write_s": round(t_written - t0, 2),
            "total_s": round(last - t0, 2), "files_per_s": round(n / (last - t0))}


def stat_walk(top: Path) -> int:
    n = 0
    for folder, _dirs, files in os.walk(top):
        for name in files:
            os.stat(os.path.join(folder, name))
            n += 1
    return n


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def bench_scale(files: int, dirs: int, base: Path, workers: int) -> dict:
    s = show(base, workers)
    per = files // dirs
    k = 0
    for d in range(dirs):
        folder = s / "working" / f"seq{d // 100:03d}" / f"shot{d:05d}"
        folder.mkdir(parents=True)
        for _ in range(per):
            (folder / f"frame{k:06d}.png").write_bytes(png(200_000 + k, ai=False))
            k += 1
    log = open(base / "daemon.log", "wb")  # noqa: SIM115
    t0 = time.time()
    proc = subprocess.Popen([sys.executable, "-m", "provenance", "watch", str(s)], stdout=log, stderr=log)
    status = s / ".provenance" / "status.json"
    ingest_s = None
    try:
        def done() -> bool:
            try:
                st = json.loads(status.read_text())
            except (OSError, ValueError):
                return False
            return (st.get("last_reconcile") is not None and st["files_judged"] >= k
                    and st["queue_depth"] == 0 and st["settling"] == 0 and st["in_progress"] == 0)
        wait(done)
        ingest_s = time.time() - t0
        time.sleep(5)
        rss = rss_kb(proc.pid)
        st = json.loads(status.read_text())
    finally:
        proc.terminate()
        proc.wait()
        log.close()
    config = load_config(s / "provenance.toml")
    with Ledger.open(config.effective_ledger_url) as ledger:
        walks, recs = [], []
        for _ in range(3):
            t = time.perf_counter()
            stat_walk(s)
            walks.append(time.perf_counter() - t)
            t = time.perf_counter()
            r = reconcile(config, ledger, [str(s)], lambda p, st: None, lambda p: None)
            recs.append(time.perf_counter() - t)
            assert r.changed == 0, r
    return {"files": k, "dirs": dirs, "ingest_s": round(ingest_s, 1),
            "ingest_files_per_s": round(k / ingest_s),
            "daemon_rss_mb": round(rss / 1024, 1), "overflows": st["overflows"],
            "stat_walk_s": round(min(walks), 2), "reconcile_no_change_s": round(min(recs), 2),
            "reconcile_vs_stat_walk": round(min(recs) / min(walks), 2)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--latency", type=int, default=100)
    ap.add_argument("--burst", type=int, default=10_000)
    ap.add_argument("--files", type=int, default=100_000)
    ap.add_argument("--dirs", type=int, default=10_000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--only", choices=["latency", "burst", "scale"])
    a = ap.parse_args()
    out = {}
    with tempfile.TemporaryDirectory(prefix="bench-watch-") as tmp:
        if a.only in (None, "latency"):
            (Path(tmp) / "l").mkdir()
            out["latency"] = bench_latency(a.latency, Path(tmp) / "l")
            print(json.dumps(out["latency"]), flush=True)
        if a.only in (None, "burst"):
            (Path(tmp) / "b").mkdir()
            out["burst"] = bench_burst(a.burst, Path(tmp) / "b", a.workers)
            print(json.dumps(out["burst"]), flush=True)
        if a.only in (None, "scale"):
            (Path(tmp) / "s").mkdir()
            out["scale"] = bench_scale(a.files, a.dirs, Path(tmp) / "s", a.workers)
            print(json.dumps(out["scale"]), flush=True)


if __name__ == "__main__":
    main()
