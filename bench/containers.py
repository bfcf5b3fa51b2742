"""What the containers reader costs a delivery of ordinary files (no archives in it).

Package: SMALL small JPEGs, PNGs and text notes, plus MEDIA files of random bytes (they sniff
as unknown, like the gate benchmark's media), plus VIDEOS one-second H.264 MP4s without cover
art (each costs the reader one ffprobe run: the price of looking for embedded pictures).
Same process, page cache warm (one untimed pass first), runs alternated and the best of REPEAT kept:
  with     Inspector(DEFAULT_READERS)                  (c2pa, metadata, sidecar, containers)
  without  Inspector(DEFAULT_READERS minus containers)
and, apart, the reader's `has_work` alone over every file against `identify` (stat, sniff,
sha256) over the same files: the look it adds to a file that holds nothing.

    .venv/bin/python bench/containers.py [--small 3000] [--media 200] [--media-mb 1.5] [--videos 0]
                                         [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import tempfile
import time
from pathlib import Path

from PIL import Image

from provenance.evidence import ReaderSettings
from provenance.evidence.containers import ContainersReader
from provenance.evidence.registry import DEFAULT_READERS
from provenance.identify import identify
from provenance.pipeline import Inspector


def make_package(root: Path, small: int, media: int, media_mb: float, videos: int) -> list[Path]:
    files: list[Path] = []
    for i in range(videos):
        p = root / "video" / f"clip_{i:04d}.mp4"
        p.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i",
                        f"color=c=0x{i % 256:02x}4080:s=64x64:d=1", "-c:v", "libx264", "-pix_fmt",
                        "yuv420p", "-metadata", f"title=clip {i}", str(p)], check=True)
        files.append(p)
    for i in range(small):
        d = root / "small" / f"d{i // 500:02d}"
        d.mkdir(parents=True, exist_ok=True)
        kind = i % 3
        if kind == 0:
            p = d / f"still_{i:05d}.jpg"
            Image.new("RGB", (64, 48), (i % 256, 40, 90)).save(p, "JPEG")
        elif kind == 1:
            p = d / f"frame_{i:05d}.png"
            Image.new("RGB", (48, 48), (20, i % 256, 160)).save(p, "PNG")
        else:
            p = d / f"note_{i:05d}.txt"
            p.write_text(f"note {i}\n" + "grade: warmer in the highlights\n" * 20)
        files.append(p)
    pool = os.urandom(32 << 20)
    size = int(media_mb * (1 << 20))
    for i in range(media):
        d = root / "media"
        d.mkdir(exist_ok=True)
        p = d / f"clip_{i:04d}.bin"
        off = (i * 7919 * 4096) % (len(pool) - size)
        p.write_bytes(i.to_bytes(8, "little") + pool[off: off + size])
        files.append(p)
    return files


def run(files: list[Path], readers: tuple[str, ...]) -> tuple[float, int]:
    with Inspector(ReaderSettings(), readers=readers) as ins:
        t = time.perf_counter()
        n = sum(1 for _ in ins.inspect_paths(files))
        return time.perf_counter() - t, n


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--small", type=int, default=3000)
    ap.add_argument("--media", type=int, default=200)
    ap.add_argument("--media-mb", type=float, default=1.5)
    ap.add_argument("--videos", type=int, default=0)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    with_c = tuple(DEFAULT_READERS)
    without = tuple(r for r in DEFAULT_READERS if r != "containers")
    with tempfile.TemporaryDirectory(prefix="bench-containers-") as tmp:
        files = make_package(Path(tmp), args.small, args.media, args.media_mb, args.videos)
        run(files, with_c)  # warm the page cache and ExifTool's start-up path
        best = {"with": float("inf"), "without": float("inf")}
        for _ in range(args.repeat):
            for name, readers in (("without", without), ("with", with_c)):
                secs, n = run(files, readers)
                assert n == len(files)
                best[name] = min(best[name], secs)
        assets = [identify(p) for p in files]
        reader = ContainersReader(ReaderSettings())
        t = time.perf_counter()
        for p in files:
            identify(p)
        identify_s = time.perf_counter() - t
        t = time.perf_counter()
        looked = sum(reader.has_work(a) for a in assets)
        has_work_s = time.perf_counter() - t
        reader.close()
    n = len(files)
    print(f"{n} files ({args.small} small, {args.media} x {args.media_mb} MB random, {args.videos} MP4), "
          f"best of {args.repeat}")
    print(f"inspect without containers: {best['without']:.2f} s ({n / best['without']:.0f} files/s)")
    print(f"inspect with containers:    {best['with']:.2f} s ({n / best['with']:.0f} files/s)")
    print(f"ratio with/without: {best['with'] / best['without']:.3f}")
    print(f"has_work over all files: {has_work_s * 1e3:.1f} ms ({has_work_s / n * 1e6:.1f} us/file, "
          f"{looked} answered True); identify: {identify_s * 1e3:.1f} ms; "
          f"has_work/identify = {has_work_s / identify_s:.3f}")


if __name__ == "__main__":
    main()
