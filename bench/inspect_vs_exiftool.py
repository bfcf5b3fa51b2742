"""Benchmark: `provenance inspect --json` against `exiftool -r -j -G1` over the same tree.

Generates N small images with mixed markers (plain JPEG/PNG, XMP DigitalSourceType in JPEG and
PNG, composite DST, A1111 PNG text) under a temporary folder, times both tools as
subprocesses in the same run (page cache warmed by one untimed pass of each), reports files/s
and the ratio, and checks that both agree on every file's XMP DigitalSourceType.

    .venv/bin/python bench/inspect_vs_exiftool.py [--files 5000] [--keep DIR]
"""

from __future__ import annotations

import argparse
import io
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image
from PIL.PngImagePlugin import PngInfo

IPTC = "http://cv.iptc.org/newscodes/digitalsourcetype/"
A1111 = "a cat\nNegative prompt: blurry\nSteps: 20, Sampler: Euler a, CFG scale: 7, Seed: {n}"


def xmp(dst: str) -> bytes:
    return (
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
        'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description rdf:about="" '
        'xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/" '
        f'Iptc4xmpExt:DigitalSourceType="{dst}"/></rdf:RDF></x:xmpmeta>'
    ).encode()


# (share of files, kind, DST written into XMP or None)
MIX = [
    (40, "jpeg", None),
    (15, "jpeg", IPTC + "trainedAlgorithmicMedia"),
    (5, "jpeg", IPTC + "compositeWithTrainedAlgorithmicMedia"),
    (5, "jpeg", IPTC + "digitalCapture"),
    (15, "png", None),
    (10, "png-a1111", None),
    (10, "png", IPTC + "trainedAlgorithmicMedia"),
]


def generate(root: Path, count: int) -> dict[str, str | None]:
    """Write `count` images into root/dNN/; return {path: DST written or None}."""
    plan: list[tuple[str, str | None]] = []
    for share, kind, dst in MIX:
        plan += [(kind, dst)] * share
    expected: dict[str, str | None] = {}
    for n in range(count):
        kind, dst = plan[n % len(plan)]
        folder = root / f"d{n // 250:02d}"
        folder.mkdir(exist_ok=True)
        img = Image.new("RGB", (32, 24), (n % 256, (n // 256) % 256, 77))
        buf = io.BytesIO()
        if kind == "jpeg":
            path = folder / f"img{n:05d}.jpg"
            img.save(buf, "JPEG", **({"xmp": xmp(dst)} if dst else {}))
        else:
            path = folder / f"img{n:05d}.png"
            info = PngInfo()
            if kind == "png-a1111":
                info.add_text("parameters", A1111.format(n=n))
            if dst:
                info.add_itxt("XML:com.adobe.xmp", xmp(dst).decode())
            img.save(buf, "PNG", pnginfo=info)
        path.write_bytes(buf.getvalue())
        expected[str(path)] = dst
    return expected


def run(cmd: list[str]) -> tuple[float, bytes]:
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, check=False)
    elapsed = time.perf_counter() - start
    if proc.returncode not in (0,):
        sys.exit(f"{cmd[0]} failed ({proc.returncode}): {proc.stderr[-2000:].decode(errors='replace')}")
    return elapsed, proc.stdout


def ours_dst(out: bytes) -> dict[str, str | None]:
    result: dict[str, str | None] = {}
    for v in json.loads(out)["verdicts"]:
        dst = next((e["value"] for e in v["evidence"]
                    if e["field"].endswith(":DigitalSourceType")), None)
        result[v["path"]] = dst
    return result


def exiftool_dst(out: bytes) -> dict[str, str | None]:
    return {d["SourceFile"]: d.get("XMP-iptcExt:DigitalSourceType") for d in json.loads(out)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, default=5000)
    ap.add_argument("--keep", type=Path, help="generate into this folder and keep it")
    args = ap.parse_args()
    root = args.keep or Path(tempfile.mkdtemp(prefix="bench-inspect-"))
    root.mkdir(parents=True, exist_ok=True)
    try:
        expected = generate(root, args.files)
        provenance = [sys.executable, "-m", "provenance", "inspect", "--json", str(root)]
        exiftool = ["exiftool", "-r", "-j", "-G1", str(root)]
        run(exiftool)  # warm the page cache and Perl's own file cache equally
        run(provenance)
        t_ours, out_ours = run(provenance)
        t_exif, out_exif = run(exiftool)
        ours, theirs = ours_dst(out_ours), exiftool_dst(out_exif)
        disagree = [p for p in expected if ours.get(p) != theirs.get(p)
                    or ours.get(p) != expected[p]]
        n = len(expected)
        print(f"files: {n}")
        print(f"provenance inspect --json : {t_ours:7.2f} s  {n / t_ours:8.1f} files/s")
        print(f"exiftool -r -j -G1        : {t_exif:7.2f} s  {n / t_exif:8.1f} files/s")
        print(f"ratio (provenance / exiftool throughput): {t_exif / t_ours:.2f}x")
        print(f"DigitalSourceType agreement: {n - len(disagree)}/{n}"
              + (f"; first disagreements: {disagree[:5]}" if disagree else ""))
        if disagree or len(ours) != n or len(theirs) != n:
            sys.exit(1)
    finally:
        if args.keep is None:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
