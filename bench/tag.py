#!/usr/bin/env python3
"""Benchmark `provenance` tagging against `exiftool -overwrite_original` in the same run.

    .venv/bin/python bench/tag.py [--files 1000] [--mb 1024] [--keep DIR]

1. files/s tagging N small JPEGs (64x48 noise): the library's `Tagger` (one ExifTool
   process, one signer) with XMP + signed C2PA + verification, the same with XMP only
   (`c2pa=False`), against ONE `exiftool -overwrite_original` invocation writing the
   same XMP fields to all N files (ExifTool's best case: no per-file process).
2. MB/s tagging one ~1 GB MP4 (mpeg4 of random pixels: real bytes, not sparse), the
   same three ways, each on a fresh copy (copies are not timed).

Every provenance run includes what ExifTool's does not: sha256 before and after,
a temp file, verification (XMP read back, C2PA validated, essence hashed), fsync.
Prints a JSON summary; the numbers go into bench/README.md by hand.
"""

from __future__ import annotations

import argparse
import io
import json
import random
import shutil
import subprocess
import sys
import tempfile
import time
from importlib.resources import as_file, files
from pathlib import Path

from PIL import Image

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))

from provenance.identity import create_identity  # noqa: E402
from provenance.tagging import Outcome, Tagger, TagSpec  # noqa: E402
from provenance.tagging.xmp import tag_args  # noqa: E402

SPEC = TagSpec.make("generated", "BenchGen", "1.0", "benchmark", ["third-party-ip"])


def make_jpegs(folder: Path, n: int) -> list[Path]:
    rng = random.Random(1)
    folder.mkdir(parents=True)
    out = []
    for i in range(n):
        buf = io.BytesIO()
        Image.frombytes("RGB", (64, 48), rng.randbytes(64 * 48 * 3)).save(buf, "JPEG")
        p = folder / f"img_{i:05d}.jpg"
        p.write_bytes(buf.getvalue())
        out.append(p)
    return out


def make_mp4(path: Path, mb: int) -> None:
    frame_bytes = 390_000  # mpeg4 -q:v 1 on 640x480 noise, measured
    frames = max(1, mb * 1024 * 1024 // frame_bytes)
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "rawvideo",
                    "-pix_fmt", "rgb24", "-s", "640x480", "-r", "25", "-i", "/dev/urandom",
                    "-frames:v", str(frames), "-c:v", "mpeg4", "-q:v", "1", str(path)],
                   check=True)


def time_tagger(paths: list[Path], identity_dir: Path, c2pa: bool) -> float:
    from provenance.identity import SigningIdentity

    identity = SigningIdentity.in_dir(identity_dir) if c2pa else None
    with Tagger(identity, c2pa=c2pa) as tagger:
        t0 = time.perf_counter()
        for p in paths:
            r = tagger.tag(p, SPEC)
            if r.outcome is not Outcome.WRITTEN:
                raise SystemExit(f"bench: {p}: {r.outcome} {r.reason}")
        return time.perf_counter() - t0


def time_exiftool(paths: list[Path]) -> float:
    with as_file(files("provenance").joinpath("data/exiftool.config")) as config:
        args = ["exiftool", "-config", str(config), "-q", "-overwrite_original",
                *tag_args(SPEC), "--", *map(str, paths)]
        t0 = time.perf_counter()
        subprocess.run(args, check=True)
        return time.perf_counter() - t0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, default=1000)
    ap.add_argument("--mb", type=int, default=1024)
    ap.add_argument("--keep", type=Path, help="work folder to use (default: a temp folder)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(dir=args.keep) as tmp:
        root = Path(tmp)
        identity_dir = root / "identity"
        create_identity(identity_dir, "Bench", ca_key_path=root / "ca.key")

        src = make_jpegs(root / "src", args.files)
        runs: dict[str, float] = {}
        for name in ("exiftool", "provenance_xmp_c2pa", "provenance_xmp_only"):
            folder = root / name
            shutil.copytree(root / "src", folder)
            paths = [folder / p.name for p in src]
            if name == "exiftool":
                runs[name] = time_exiftool(paths)
            else:
                runs[name] = time_tagger(paths, identity_dir, c2pa=name.endswith("c2pa"))
        small = {k: round(args.files / v, 1) for k, v in runs.items()}

        big = root / "big.mp4"
        make_mp4(big, args.mb)
        size_mb = big.stat().st_size / 1e6
        big_runs: dict[str, float] = {}
        for name in ("exiftool", "provenance_xmp_c2pa", "provenance_xmp_only"):
            copy = root / f"{name}.mp4"
            shutil.copyfile(big, copy)
            subprocess.run(["cat", str(copy)], stdout=subprocess.DEVNULL, check=True)  # warm
            if name == "exiftool":
                big_runs[name] = time_exiftool([copy])
            else:
                big_runs[name] = time_tagger([copy], identity_dir, c2pa=name.endswith("c2pa"))
            copy.unlink()
        large = {k: round(size_mb / v, 1) for k, v in big_runs.items()}

    report = {
        "small_jpegs": {"files": args.files, "files_per_s": small,
                        "ratio_vs_exiftool": {k: round(v / small["exiftool"], 3)
                                              for k, v in small.items() if k != "exiftool"}},
        "large_mp4": {"mb": round(size_mb, 1), "mb_per_s": large,
                      "seconds": {k: round(v, 2) for k, v in big_runs.items()},
                      "ratio_vs_exiftool": {k: round(v / large["exiftool"], 3)
                                            for k, v in large.items() if k != "exiftool"}},
    }
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
