#!/usr/bin/env python3
"""Content memory's costs, each against its baseline in the same run (issue 11):

1. fingerprinting a 4K JPEG, a 4K EXR, one second of 1080p H.264 and audio (a 60 s MP3, a
   3 s AAC) against the bare decode of the same file (Pillow `load()` for the JPEG; `ffmpeg
   -f null` for the others), wall time and CPU time (this process and its children);
2. the near-match index at 10^6 stored 256-bit hashes: lookup time of the multi-index
   hashing search against a numpy brute-force scan of the same codes, its build time and
   the process's resident memory; recall of planted near-duplicates (flipped bits) both ways;
3. the dense audio hash index at 10 hours of stored AI sound: build, memory, a 3 s lookup.

    .venv/bin/python bench/fingerprint.py [--n 1000000] [--queries 300] [--skip-index] [--media audio]
        [--audio-hours 10]
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO.parent / "shared" / "corpus"
sys.path.insert(0, str(REPO / "src"))

from provenance.fingerprint import fingerprint  # noqa: E402
from provenance.fingerprint.audio import decode_audio  # noqa: E402
from provenance.fingerprint.audio_hash import HOP_SECONDS  # noqa: E402
from provenance.identify import identify  # noqa: E402
from provenance.memory.audio_match import AudioHashIndex  # noqa: E402
from provenance.memory.index import WORDS, HashIndex  # noqa: E402


def _cpu() -> float:
    """CPU seconds of this process and its waited-for children (the bare decode's ffmpeg)."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def interleaved(baseline, candidate, runs: int = 7) -> tuple[float, float, float, float]:  # type: ignore[no-untyped-def]
    """Median wall seconds and median CPU seconds of each (baseline wall, candidate wall,
    baseline CPU, candidate CPU), timed alternately (baseline, candidate, baseline, ...), so
    a loaded machine slows both alike."""
    times: tuple[list[float], list[float]] = ([], [])
    cpu: tuple[list[float], list[float]] = ([], [])
    for _ in range(runs):
        for fn, out, used in ((baseline, times[0], cpu[0]), (candidate, times[1], cpu[1])):
            c, t = _cpu(), time.perf_counter()
            fn()
            out.append(time.perf_counter() - t)
            used.append(_cpu() - c)
    return (statistics.median(times[0]), statistics.median(times[1]), statistics.median(cpu[0]),
            statistics.median(cpu[1]))


def ffmpeg(*args: str, data: bytes | None = None) -> None:
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", *args], input=data, check=True)


def make_media(work: Path) -> dict[str, Path]:
    src = Image.open(CORPUS / "d02_Firefly_tabby_cat.jpg").convert("RGB").resize((3840, 2160))
    jpeg = work / "uhd.jpg"
    src.save(jpeg, quality=90)
    photo = work / "uhd_photo.jpg"  # a real photograph: more detail, more entropy-coded data
    with Image.open(CORPUS / "d21_cloudscape-ACA-Cr.jpeg") as img:
        img.convert("RGB").resize((3840, 2160), box=(0, 0, 4030, 2267)).save(photo, quality=92)
    rgb = np.asarray(src, dtype=np.float32) / 255
    lin = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4).astype(np.float32)
    exr = work / "uhd.exr"
    ffmpeg("-f", "rawvideo", "-pix_fmt", "gbrpf32le", "-s", "3840x2160", "-i", "-", "-c:v", "exr",
           "-format", "half", "-compression", "zip16", str(exr),
           data=np.stack([lin[..., 1], lin[..., 2], lin[..., 0]]).tobytes())
    h264 = work / "hd.mp4"
    ffmpeg("-i", str(CORPUS / "d25_sony_official_teletrax.mp4"), "-t", "1", "-c:v", "libx264", "-preset",
           "veryfast", "-an", str(h264))
    # Audio: real sound (the corpus's non-AI TikTok track, 23 s) as a 60 s MP3 and as a 3 s
    # AAC sound effect; fingerprinting decodes it in-process once (essence, chromaprint through
    # libchromaprint, the dense hash).
    mp3 = work / "60s.mp3"
    ffmpeg("-stream_loop", "2", "-i", str(CORPUS / "d35_tiktok_human_video.mp4"), "-vn", "-t", "60",
           "-c:a", "libmp3lame", "-b:a", "192k", str(mp3))
    aac = work / "3s.m4a"
    ffmpeg("-ss", "5", "-t", "3", "-i", str(CORPUS / "d35_tiktok_human_video.mp4"), "-vn", "-c:a", "aac",
           "-b:a", "128k", str(aac))
    return {"4K JPEG (upscaled AI still, q90)": jpeg, "4K JPEG (photograph, q92)": photo,
            "4K EXR (half, zip16)": exr, "1 s 1080p H.264": h264, "60 s MP3 192k (audio)": mp3,
            "3 s AAC 128k (audio)": aac}


def bare_decode(name: str, path: Path) -> None:
    if "JPEG" in name:
        with Image.open(path) as img:
            img.load()
    else:
        subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-i", str(path), "-f", "null", "-"], check=True)


def bench_fingerprints(only: list[str]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        media = make_media(Path(tmp))
        print(f"load average before: {os.getloadavg()[0]:.1f}")
        print("| file | size | bare decode | fingerprint | ratio | CPU: decode | CPU: fingerprint "
              "| CPU ratio |")
        print("| --- | --- | --- | --- | --- | --- | --- | --- |")
        for name, path in media.items():
            if only and not any(text in name for text in only):
                continue
            asset = identify(path)
            decode_s, fp_s, decode_c, fp_c = interleaved(
                lambda: bare_decode(name, path),  # noqa: B023
                lambda: fingerprint(path, asset.format, asset.sha256))  # noqa: B023
            print(f"| {name} | {path.stat().st_size / 1e6:.1f} MB | {decode_s * 1000:.0f} ms "
                  f"| {fp_s * 1000:.0f} ms | {fp_s / decode_s:.2f}× | {decode_c * 1000:.0f} ms "
                  f"| {fp_c * 1000:.0f} ms | {fp_c / max(decode_c, 1e-9):.2f}× |")
        print(f"load average after: {os.getloadavg()[0]:.1f}")


def as_int(row: np.ndarray) -> int:
    return sum(int(w) << (64 * (WORDS - 1 - i)) for i, w in enumerate(row))


def bench_index(n: int, queries: int, rounds: int = 3) -> None:
    rng = np.random.default_rng(7)
    codes = rng.integers(0, 2**63, (n, WORDS), dtype=np.uint64) * np.uint64(2) + rng.integers(
        0, 2, (n, WORDS), dtype=np.uint64)
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t = time.perf_counter()
    index = HashIndex(codes, np.arange(n))
    build = time.perf_counter() - t
    rss1 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # The same codes probed at radius 2 per chunk (guaranteed prefix radius 11), for comparison.
    fewer = HashIndex(codes, np.arange(n), chunk_radius=2)
    picks = random.Random(7)
    planted = []
    for k in rng.integers(0, n, queries):
        code = as_int(codes[k])
        # A derivative: up to 40 of 256 bits flipped, at most 12 of them in the first 64.
        in_prefix = picks.randint(0, 12)
        for b in picks.sample(range(64), in_prefix) + picks.sample(range(64, 256), 28):
            code ^= 1 << (255 - b)
        planted.append((int(k), code, in_prefix))
    brute_n = min(len(planted), 30)

    def lookups(search, sample):  # type: ignore[no-untyped-def]
        t = time.perf_counter()
        hits = [any(i == k for i, _ in search(code, 64)) for k, code, _ in sample]
        return (time.perf_counter() - t) / len(sample), hits

    times: dict[str, list[float]] = {"brute": [], "mih3": [], "mih2": []}
    hits: dict[str, list[bool]] = {}
    for _ in range(rounds):  # interleaved: brute force, radius 3, radius 2, brute force, ...
        for name, search, sample in (("brute", index.search_brute, planted[:brute_n]),
                                     ("mih3", index.search, planted), ("mih2", fewer.search, planted)):
            took, hits[name] = lookups(search, sample)
            times[name].append(took)
    ms = {name: statistics.median(v) * 1000 for name, v in times.items()}
    near11 = [i for i, (_, _, f) in enumerate(planted) if f <= fewer.prefix_radius]
    print(f"load average: {os.getloadavg()[0]:.1f}")
    print(f"| index | {n:,} hashes | build {build:.2f} s | RSS +{(rss1 - rss0) / 1024:.0f} MB "
          f"(process {rss1 / 1024:.0f} MB) |")
    print(f"| multi-index hashing, radius 3 per chunk (prefix ≤ {index.prefix_radius} exact) | "
          f"{ms['mih3']:.3f} ms | found {sum(hits['mih3'])}/{len(planted)} |")
    print(f"| multi-index hashing, radius 2 per chunk (prefix ≤ {fewer.prefix_radius} exact) | "
          f"{ms['mih2']:.3f} ms | found {sum(hits['mih2'])}/{len(planted)} "
          f"({sum(hits['mih2'][i] for i in near11)}/{len(near11)} of those with ≤ {fewer.prefix_radius} "
          "prefix bits flipped) |")
    print(f"| numpy brute-force scan | {ms['brute']:.1f} ms | found {sum(hits['brute'])}/{brute_n} |")
    print(f"| speed-up over brute force | radius 3: {ms['brute'] / ms['mih3']:.0f}×, "
          f"radius 2: {ms['brute'] / ms['mih2']:.0f}× |")


def bench_audio_index(hours: float, queries: int = 50) -> None:
    """The dense audio hash index at `hours` of stored AI sound: build, memory, a 3 s lookup.
    Stored sounds are real hashes (the corpus's non-AI TikTok and Sora tracks) each XORed with a
    random mask per copy: the statistics of real sound, but every copy a different sound."""
    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "a.wav"
        base = []
        for name in ("d35_tiktok_human_video.mp4", "d06_sorastats_sora_standard.mp4"):
            ffmpeg("-i", str(CORPUS / name), "-vn", str(wav))
            base.append(np.array(decode_audio(wav).dense, dtype=np.uint32))
    rng = np.random.default_rng(1)
    stored: list[np.ndarray] = []
    total = 0
    while total < hours * 3600 / HOP_SECONDS:
        b = base[len(stored) % len(base)]
        stored.append(np.where(b != 0, b ^ np.uint32(rng.integers(1, 2**32)), 0).astype(np.uint32))
        total += len(b)
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t = time.perf_counter()
    index = AudioHashIndex(stored)
    build = time.perf_counter() - t
    rss1 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    planted = []
    for _ in range(queries):  # 3 s of a stored sound with 8 % of its bits flipped (a transcode)
        n = int(rng.integers(len(stored)))
        start = int(rng.integers(0, len(stored[n]) - 130))
        q = stored[n][start:start + 129].copy()
        flips = (rng.random((len(q), 32)) < 0.08) * (1 << np.arange(32, dtype=np.uint64))
        q = np.where(q != 0, q ^ flips.sum(axis=1).astype(np.uint32), 0).astype(np.uint32)
        planted.append((n, q.tolist()))
    c, t = _cpu(), time.perf_counter()
    found = sum(any(h.original == n for h in index.search(q)) for n, q in planted)
    wall, cpu = (time.perf_counter() - t) / queries, (_cpu() - c) / queries
    print(f"load average: {os.getloadavg()[0]:.1f}")
    print(f"| audio hash index | {hours:g} h stored ({total:,} hashes, {len(stored)} sounds) "
          f"| build {build:.2f} s "
          f"| RSS +{(rss1 - rss0) / 1024:.0f} MB | 3 s lookup {wall * 1000:.2f} ms ({cpu * 1000:.2f} ms CPU) "
          f"| found {found}/{queries} |")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--queries", type=int, default=300)
    ap.add_argument("--skip-media", action="store_true")
    ap.add_argument("--skip-index", action="store_true")
    ap.add_argument("--audio-hours", type=float, default=10.0,
                    help="hours of stored AI sound for the audio hash index (0: skip)")
    ap.add_argument("--media", action="append", default=[], metavar="TEXT",
                    help="only the files whose row name contains TEXT (may be repeated)")
    args = ap.parse_args()
    if not args.skip_media:
        bench_fingerprints(args.media)
        print()
    if not args.skip_index:
        bench_index(args.n, args.queries)
    if args.audio_hours:
        print()
        bench_audio_index(args.audio_hours)
    return 0


if __name__ == "__main__":
    sys.exit(main())
