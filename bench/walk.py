"""The one walk (`provenance.walk`, used by inspect, scan, reconcile and the gate) against
`find -printf` and a plain sorted `os.walk` over the same tree, in the same run.

    .venv/bin/python bench/walk.py --files 100000 --per-folder 100

Builds FILES small files (one in 20 with a genuine `.xmp` sidecar beside it) in folders of
PER_FOLDER, warms the page cache with one untimed pass, then times each walk (best of 3).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from provenance.walk import walk

XMP = b'<?xpacket begin=""?><x:xmpmeta xmlns:x="adobe:ns:meta/"/>'


def build(top: Path, files: int, per_folder: int) -> None:
    for i in range(files):
        folder = top / f"reel{i // (per_folder * 10):03d}" / f"shot{i // per_folder:05d}"
        if i % per_folder == 0:
            folder.mkdir(parents=True)
        f = folder / f"frame{i:07d}.exr"
        f.write_bytes(b"v/1\x01")
        if i % 20 == 0:
            (folder / f"frame{i:07d}.exr.xmp").write_bytes(XMP)


def best(fn: Callable[[], int], runs: int = 3) -> tuple[float, int]:
    times, n = [], 0
    for _ in range(runs):
        t0 = time.perf_counter()
        n = fn()
        times.append(time.perf_counter() - t0)
    return min(times), n


def os_walk_sorted(top: str) -> int:
    n = 0
    for _, dirs, names in os.walk(top):
        dirs.sort()
        n += len(sorted(names))
    return n


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--files", type=int, default=100_000)
    ap.add_argument("--per-folder", type=int, default=100)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        top = Path(tmp) / "pkg"
        build(top, args.files, args.per_folder)
        s = str(top)
        find = ["find", s, "-printf", "%i %s %T@ %C@ %p\n"]
        subprocess.run(find, capture_output=True, check=True)  # warm the page cache
        t_find, _ = best(lambda: len(subprocess.run(find, capture_output=True, check=True).stdout))
        t_os, n_os = best(lambda: os_walk_sorted(s))
        t_walk, n_walk = best(lambda: sum(1 for _ in walk([s])))
        print(f"{args.files} files (+{n_os - args.files} sidecars) in folders of {args.per_folder}")
        print(f"find -printf            {t_find:7.3f} s")
        print(f"os.walk, sorted names   {t_os:7.3f} s   {t_os / t_find:5.1f}x find")
        print(f"provenance.walk         {t_walk:7.3f} s   {t_walk / t_find:5.1f}x find   "
              f"{t_walk / t_os:5.2f}x os.walk   ({n_walk} entries: sidecars skipped)")


if __name__ == "__main__":
    main()
