#!/usr/bin/env python3
"""The master check's cost against a bare decode of the same file (issue 12, finished masters).

Generates a test master per resolution (1080p and UHD, H.264, 24 fps): `mandelbrot` and
`testsrc2` around a two-second clip rendered from an AI still of the corpus, cut in at 1/3 of
the length. Then, on each file, best of N runs:
- baseline: `ffmpeg -v error -i MASTER -f null -` (every frame decoded, frame threads);
- master check: what the gate does for a video it has not seen — `fingerprint_video` (one
  decode pass, frames sampled every 0.25 s and at cuts, each hashed) plus `Memory.match`
  against the AI still in memory.
Reported as seconds per minute of master and as the ratio; it checks the AI segment is found
at the time it was cut in (exit 1 otherwise).

    .venv/bin/python bench/master.py [--seconds 12] [--runs 2]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO.parent / "shared" / "corpus"
sys.path.insert(0, str(REPO / "src"))

from provenance.fingerprint import Fingerprint, Kind, fingerprint  # noqa: E402
from provenance.fingerprint.video import fingerprint_video  # noqa: E402
from provenance.identify import identify  # noqa: E402
from provenance.memory.match import Memory  # noqa: E402
from provenance.memory.store import Original  # noqa: E402

SIZES = {"1080p": "1920x1080", "UHD": "3840x2160"}


def ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", *args], check=True)


def make_master(out: Path, size: str, seconds: float, still: Path) -> float:
    """The master; returns where the AI clip starts (seconds)."""
    w, h = size.split("x")
    first = round(seconds / 3, 2)
    rest = seconds - first - 2
    ffmpeg("-f", "lavfi", "-i", f"mandelbrot=size={size}:rate=24", "-loop", "1", "-r", "24", "-t", "2",
           "-i", str(still), "-f", "lavfi", "-i", f"testsrc2=size={size}:rate=24",
           "-filter_complex",
           f"[0:v]trim=duration={first},format=yuv420p[a];"
           f"[1:v]scale={w}:{h}:force_original_aspect_ratio=decrease,pad={w}:{h}:-1:-1,setsar=1,"
           f"format=yuv420p[ai];[2:v]trim=duration={rest},format=yuv420p[b];[a][ai][b]concat=n=3:v=1[v]",
           "-map", "[v]", "-c:v", "libx264", "-preset", "ultrafast", "-crf", "20", str(out))
    return first


def best_of(fn, runs: int) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--seconds", type=float, default=12.0)
    ap.add_argument("--runs", type=int, default=2)
    args = ap.parse_args()
    still = CORPUS / "d13_invokeai.png"
    a = identify(still)
    ai = fingerprint(still, a.format, a.sha256)
    assert isinstance(ai, Fingerprint) and ai.kind is Kind.STILL
    memory = Memory([Original(ai, "ai_generated", "InvokeAI", (str(still),), None, "2026-12-02T00:00:00Z")])
    ok = True
    print(f"| master ({args.seconds:g} s, H.264 24 fps) | `ffmpeg -f null` per minute "
          "| master check per minute | ratio | AI segment found |")
    print("| --- | --- | --- | --- | --- |")
    with tempfile.TemporaryDirectory() as tmp:
        for label, size in SIZES.items():
            master = Path(tmp) / f"master_{label}.mp4"
            cut_in = make_master(master, size, args.seconds, still)
            sha = identify(master).sha256
            bare = best_of(lambda m=master: ffmpeg("-i", str(m), "-f", "null", "-"), args.runs)
            found: list[tuple[float, float]] = []

            def check(m: Path = master, sha: str = sha, found: list[tuple[float, float]] = found) -> None:
                frames, duration, essence = fingerprint_video(m)
                fp = Fingerprint(sha, Kind.VIDEO, essence, frames=frames, duration=duration)
                found[:] = [x.query_range for x in memory.match(fp) if x.query_range]

            ours = best_of(check, args.runs)
            hit = bool(found) and abs(found[0][0] - cut_in) <= 0.5 and abs(found[0][1] - cut_in - 2) <= 0.5
            ok &= hit
            per_min = 60 / args.seconds
            where = (f"{found[0][0]:.2f}–{found[0][1]:.2f} s (cut in {cut_in:.2f}–{cut_in + 2:.2f})"
                     if found else "no")
            print(f"| {label} | {bare * per_min:.1f} s | {ours * per_min:.1f} s | **{ours / bare:.2f}×** "
                  f"| {where} |")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
