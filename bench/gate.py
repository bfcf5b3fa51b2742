"""Benchmark `provenance gate` against the floor: reading and hashing every byte once.

Package: MEDIA files of random bytes (several GB in all; the format sniffs as unknown, so no
reader has a container to parse) plus a few real marker files (A1111 PNG, XMP-tagged JPEG),
and SMALL small files. Baselines run in the same script over the same files, page cache warm
for both (the package is read once before any timing):
  cold  `provenance gate` with an empty ledger and no cache   vs  `openssl dgst -sha256` (xargs)
  warm  `provenance gate` again on the unchanged package       vs  `find -printf` (a stat-only walk)
C2PA validation is timed apart on copies of the sample show's C2PA-signed files.

Real media apart (`--real-copies N`, 0 to skip): N copies each of MOV and MP4 (H.264), ProRes
MOV, MXF (MPEG-2), EXR, DPX, TIFF and WAV made with ffmpeg from the corpus (1.7-25 MB each;
ffmpeg writes no C2PA), in a package of their own, CPU from getrusage against openssl's CPU
over the same bytes:
  cold    a fresh show: read, hash, ExifTool, and content memory fingerprints every file
  re-read the same show with --verify-hashes: every file read, hashed and ExifTool'd again,
          while content memory finds the fingerprints stored by the cold run (no decoding):
          what issue 9's "≤ 1.3× openssl" is about
  decode  `ffmpeg -f null` of every file: the baseline of content memory's part (issue 11)

    .venv/bin/python bench/gate.py [--media 2000] [--media-mb 1.5] [--small 20000] [--keep DIR]
                                   [--real-copies 4]
    .venv/bin/python bench/gate.py --startup-only [--startup-runs 9]   # start-up alone, ~30 s
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image
from PIL.PngImagePlugin import PngInfo

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO.parent / "shared" / "corpus"
PROVENANCE = REPO / ".venv" / "bin" / "provenance"
C2PA_SAMPLES = [REPO / "sample_assets/show/working/generated" / n
                for n in ("c2pa_generated.jpg", "c2pa_generated.png", "c2pa_generated.mp4",
                          "c2pa_generated.wav")]


# Runs the gate CLI in this interpreter and writes its own CPU (Python) and its reaped
# children's (ExifTool) to the file named by PROVENANCE_BENCH_RUSAGE when it exits.
_CPU_SPLIT = """
import atexit, json, os, resource, sys
from provenance.cli import main
def dump():
    s, c = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    with open(os.environ["PROVENANCE_BENCH_RUSAGE"], "w") as fh:
        json.dump({"python": s.ru_utime + s.ru_stime, "children": c.ru_utime + c.ru_stime}, fh)
atexit.register(dump)
sys.exit(main(sys.argv[1:]))
"""


STATE: dict[str, str] = {}  # this run's own state folders (the gate's private cache lives there)


def gate_cpu(cfg: Path, pkg: Path, out: Path, *options: str) -> tuple[float, float, float]:
    """(wall, Python CPU, ExifTool and other children's CPU) of one gate run."""
    cmd = [sys.executable, "-c", _CPU_SPLIT, "gate", "--config", str(cfg), "--json", *options, str(pkg)]
    wall, _ = timed(cmd, env={**os.environ, **STATE, "PROVENANCE_BENCH_RUSAGE": str(out)})
    cpu = json.loads(out.read_text())
    return wall, cpu["python"], cpu["children"]


def children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def timed_cpu(cmd: str | list[str], **kw: object) -> tuple[float, float]:
    """(wall, CPU of the command and everything it ran) of one run."""
    before = children_cpu()
    wall, _ = timed(cmd, **kw)
    return wall, children_cpu() - before


def ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", *args], check=True)


def make_real_media(pkg: Path, bases: Path, copies: int) -> int:
    """`copies` of each kind of real media, each copy its own bytes: a remux with another
    title for the containers that hold one, another frame for the stills."""
    video, audio = CORPUS / "d25_sony_official_teletrax.mp4", CORPUS / "d36_sample1.mp3"
    bases.mkdir(parents=True)
    h264, prores, mxf, wav = (bases / n for n in ("h264.mov", "prores.mov", "mpeg2.mxf", "audio.wav"))
    ffmpeg("-i", str(video), "-t", "3", "-an", "-c:v", "libx264", "-preset", "veryfast", "-crf", "8",
           str(h264))
    ffmpeg("-i", str(video), "-t", "1", "-an", "-c:v", "prores_ks", "-profile:v", "0", str(prores))
    ffmpeg("-i", str(video), "-t", "2", "-an", "-c:v", "mpeg2video", "-q:v", "2", str(mxf))
    ffmpeg("-i", str(audio), "-c:a", "pcm_s24le", str(wav))
    pkg.mkdir(parents=True)
    for i in range(copies):
        for base, name in ((h264, "h264.mov"), (h264, "h264.mp4"), (prores, "prores.mov"),
                           (mxf, "mpeg2.mxf"), (wav, "audio.wav")):
            ffmpeg("-i", str(base), "-c", "copy", "-metadata", f"title=take {i}",
                   str(pkg / f"{i:03d}_{name}"))
        at = f"{0.5 + i * 0.3:.2f}"  # another frame per copy
        for name, codec in (("frame.exr", ["-c:v", "exr", "-pix_fmt", "gbrpf32le"]),
                            ("frame.dpx", ["-pix_fmt", "rgb48le"]), ("frame.tif", ["-pix_fmt", "rgb24"])):
            ffmpeg("-ss", at, "-i", str(video), "-frames:v", "1", *codec, str(pkg / f"{i:03d}_{name}"))
    return sum(f.stat().st_size for f in pkg.iterdir())


def linked_subset(files: list[Path], into: Path, under: Path) -> int:
    """Hard links to `files` (the same bytes, so the same fingerprints) in `into`, keeping
    their paths below `under`; their bytes."""
    for f in files:
        dst = into / f.relative_to(under)
        dst.parent.mkdir(parents=True, exist_ok=True)
        os.link(f, dst)
    return sum(f.stat().st_size for f in files)


def ssl_cpu(pkg: Path) -> tuple[float, float]:
    return timed_cpu(f"find {pkg} -type f -print0 | xargs -0 -n 256 -P 1 openssl dgst -sha256 > /dev/null",
                     shell=True)


def slope(name: str, gate_big: float, gate_small: float, ssl_big: float, ssl_small: float,
          bytes_big: int, bytes_small: int) -> None:
    """What grows with the package: CPU per extra byte, the gate against openssl (every fixed
    cost, start-up, imports, ExifTool's process start, falls out of the difference)."""
    gb = (bytes_big - bytes_small) / 1e9
    g, o = (gate_big - gate_small) / gb, (ssl_big - ssl_small) / gb
    print(f"{name}, per GB beyond a {bytes_small / 1e6:.0f} MB package: gate {g:.2f} s CPU, openssl "
          f"{o:.2f} s = {g / o:.2f}x")


def real_media_row(work: Path, copies: int, startup_cpu: float) -> None:
    """Cold gate on real media against openssl (CPU), content memory apart against the decode."""
    pkg = work / "real"
    total = make_real_media(pkg, work / "real-bases", copies)
    files = sorted(pkg.iterdir())
    n = len(files)
    print(f"real media: {n} files, {total / 1e9:.2f} GB ({copies} x MOV/MP4 H.264, ProRes, MXF, EXR, "
          "DPX, TIFF, WAV)")
    timed(f"cat {pkg}/* > /dev/null", shell=True)
    t_ssl, cpu_ssl = timed_cpu(f"find {pkg} -type f -print0 | xargs -0 -n 256 -P 1 openssl dgst -sha256 "
                               "> /dev/null", shell=True)
    cfg = fresh_show(work / "show-real")
    t_cold, py_cold, kids_cold = gate_cpu(cfg, pkg, work / "rusage.json")
    t_re, py_re, kids_re = gate_cpu(cfg, pkg, work / "rusage.json", "--verify-hashes")
    one = work / "real-one"  # one copy of each kind, re-read the same way: the fixed costs
    one_bytes = linked_subset([f for f in files if f.name.startswith("000_")], one, pkg)
    _, cpu_ssl_one = ssl_cpu(one)
    _, py_one, kids_one = gate_cpu(cfg, one, work / "rusage.json", "--verify-hashes")
    decode = 0.0
    for f in files:
        decode += timed_cpu(["ffmpeg", "-nostdin", "-v", "error", "-i", str(f), "-f", "null", "-"])[1]
    cold, reread = py_cold + kids_cold, py_re + kids_re
    print(f"load average {os.getloadavg()[0]:.1f}")
    print(f"real media, openssl (with find, xargs): {t_ssl:.2f} s wall, CPU {cpu_ssl:.2f} s")
    print(f"real media, gate re-read (--verify-hashes, fingerprints known): {t_re:.2f} s wall; CPU "
          f"{reread:.2f} s (Python {py_re:.2f}, ExifTool and other children {kids_re:.2f}); minus start-up "
          f"{startup_cpu:.2f} s: {reread - startup_cpu:.2f} s = {(reread - startup_cpu) / cpu_ssl:.2f}x "
          f"openssl CPU ({(reread - startup_cpu) / n * 1e3:.1f} ms/file); with start-up "
          f"{reread / cpu_ssl:.2f}x")
    slope("real media, re-read", reread, py_one + kids_one, cpu_ssl, cpu_ssl_one, total, one_bytes)
    print(f"real media, gate cold (fresh show, content memory fingerprints every file): {t_cold:.2f} s wall; "
          f"CPU {cold:.2f} s (Python {py_cold:.2f}, children {kids_cold:.2f}) = {cold / cpu_ssl:.2f}x "
          "openssl")
    print(f"real media, content memory (cold minus re-read): CPU {cold - reread:.2f} s against the bare "
          f"decode (ffmpeg -f null, every frame) {decode:.2f} s = {(cold - reread) / decode:.2f}x")


def timed(cmd: str | list[str], **kw: object) -> tuple[float, int]:
    t = time.perf_counter()
    proc = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **kw)  # type: ignore[call-overload]
    return time.perf_counter() - t, proc.returncode


def make_package(pkg: Path, media: int, media_mb: float, small: int) -> int:
    pool = os.urandom(64 << 20)
    size = int(media_mb * (1 << 20))
    total = 0
    for i in range(media):
        d = pkg / "media" / f"reel{i // 200:02d}"
        d.mkdir(parents=True, exist_ok=True)
        off = (i * 7919 * 4096) % (len(pool) - size)
        with open(d / f"clip_{i:05d}.bin", "wb") as fh:
            fh.write(i.to_bytes(8, "little") + pool[off: off + size])  # unique bytes per file
        total += size + 8
    for i in range(small):
        d = pkg / "small" / f"d{i // 1000:02d}"
        d.mkdir(parents=True, exist_ok=True)
        text = f"note {i}\n" + pool[i * 64: i * 64 + 3000].hex() + "\n"  # a plausible text file
        (d / f"note_{i:05d}.txt").write_text(text)
        total += len(text)
    markers = pkg / "markers"
    markers.mkdir()
    for i in range(3):
        info = PngInfo()
        info.add_text("parameters", f"castle\nSteps: 20, Sampler: Euler a, Seed: {i}, Model: sdxl")
        Image.new("RGB", (256, 256), (i, 20, 30)).save(markers / f"gen_{i}.png", pnginfo=info)
    Image.new("RGB", (256, 256)).save(markers / "tagged.jpg")
    subprocess.run(["exiftool", "-q", "-overwrite_original", "-XMP-iptcExt:DigitalSourceType="
                    "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia",
                    str(markers / "tagged.jpg")], check=True)
    return total


def fresh_show(root: Path) -> Path:
    if root.exists():
        shutil.rmtree(root)
    (root / ".provenance").mkdir(parents=True)
    cfg = root / "provenance.toml"
    cfg.write_text('[ledger]\nurl = "sqlite:///.provenance/ledger.db"\n')
    make_ledger(root / ".provenance" / "ledger.db")
    return cfg


def make_ledger(db: Path) -> None:
    """An empty ledger, made as `provenance init` makes it: the gate never creates one."""
    from provenance.ledger import Ledger

    Ledger.open(f"sqlite:///{db}").close()


def gate_cmd(cfg: Path, pkg: Path) -> list[str]:
    return [str(PROVENANCE), "gate", "--config", str(cfg), "--json", str(pkg)]


def startup(runs: int, work: Path) -> dict[str, float]:
    """Start-up alone (issue 9: ≤ 0.5 s on a quiet machine): the gate CLI as users run it
    (`.venv/bin/provenance gate --json`) on an empty package of a configured show (SQLite
    ledger), against `python -c pass` and `python -c 'import sqlalchemy'` (the floor the
    design accepts), interleaved `runs` times after one untimed gate (it makes the ledger and
    the private state); medians of wall and of CPU (this process's reaped children)."""
    cfg = fresh_show(work / "startup-show")
    empty = work / "startup-empty"
    empty.mkdir()
    state = work / "startup-state"
    state.mkdir(mode=0o700)
    env = {**os.environ, "XDG_STATE_HOME": str(state), "PROVENANCE_STATE_DIR": str(state / "provenance")}
    # This VM sets PYTHONDONTWRITEBYTECODE=1, so the editable install (which pip leaves without
    # bytecode) compiles every provenance module on every run; an installed tool has its
    # bytecode. Both are measured (site-packages, SQLAlchemy's included, has it either way).
    compiled = {k: v for k, v in env.items() if k != "PYTHONDONTWRITEBYTECODE"}
    compiled["PYTHONPYCACHEPREFIX"] = str(work / "startup-pycache")
    commands = {"python -c pass": ([sys.executable, "-c", "pass"], env),
                "python -c 'import sqlalchemy'": ([sys.executable, "-c", "import sqlalchemy"], env),
                "provenance gate --json EMPTY": (gate_cmd(cfg, empty), compiled),
                "  the same, as this VM runs it": (gate_cmd(cfg, empty), env)}
    timed(gate_cmd(cfg, empty), env=compiled)  # writes the bytecode, makes the private state
    got: dict[str, list[float]] = {}
    for _ in range(runs):
        for name, (cmd, cmd_env) in commands.items():
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            wall, rc = timed(cmd, env=cmd_env)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            if rc != 0:
                raise SystemExit(f"{name} exited {rc}")
            got.setdefault(name, []).append(wall)
            got.setdefault(f"{name} cpu", []).append(after.ru_utime - before.ru_utime
                                                     + after.ru_stime - before.ru_stime)
    med = {k: statistics.median(v) for k, v in got.items()}
    print(f"start-up: load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}; "
          f"medians of {runs} interleaved runs")
    for name in commands:
        print(f"  {name:32s} {med[name]:6.3f} s wall  {med[name + ' cpu']:6.3f} s CPU")
    return med


PY_STAT_WALK = """
import os, sys
def walk(top):
    with os.scandir(top) as it:
        for e in it:
            if e.is_dir(follow_symlinks=False):
                walk(e.path)
            else:
                e.stat(follow_symlinks=False)
walk(sys.argv[1])
"""


def warm_rounds(cfg: Path, pkg: Path, empty: Path, work: Path, runs: int) -> dict[str, float]:
    """`runs` interleaved rounds (so a loaded machine slows all alike) of `find -printf`, the
    gate on an empty folder (its start-up) and the gate on the unchanged package; medians of
    wall and CPU ("find", "find cpu", "start-up", "start-up cpu", "warm", "warm cpu")."""
    got: dict[str, list[float]] = {k: [] for k in ("find", "find cpu", "start-up", "start-up cpu", "warm",
                                                   "warm cpu")}
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        got["find"].append(timed(["find", str(pkg), "-printf", "%i %s %T@ %C@ %p\n"])[0])
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        got["find cpu"].append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
        for name, target in (("start-up", empty), ("warm", pkg)):
            t, py, kids = gate_cpu(cfg, target, work / "rusage.json")
            got[name].append(t)
            got[name + " cpu"].append(py + kids)
    return {k: statistics.median(v) for k, v in got.items()}


def warm_only(work: Path, pkg: Path, nfiles: int, runs: int) -> int:
    """The warm goal alone (issue 9): a cold gate and a first warm one untimed (the cold run's
    own ledger writes, if any, are judged once more by the first), then `runs` interleaved
    rounds of find, gate start-up (empty folder) and warm gate; medians, wall and CPU."""
    cfg = fresh_show(work / "show")
    empty = work / "empty"
    empty.mkdir()
    for _ in range(2):
        gate_cpu(cfg, pkg, work / "rusage.json")
    med = warm_rounds(cfg, pkg, empty, work, runs)
    net, net_cpu = med["warm"] - med["start-up"], med["warm cpu"] - med["start-up cpu"]
    print(f"load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}; medians of {runs} interleaved runs")
    print(f"find -printf      {med['find']:.3f} s wall, {med['find cpu']:.3f} s CPU "
          f"({med['find'] / nfiles * 1e6:.2f} µs/file)")
    print(f"gate start-up     {med['start-up']:.3f} s wall, {med['start-up cpu']:.3f} s CPU (empty folder)")
    print(f"gate warm         {med['warm']:.3f} s wall, {med['warm cpu']:.3f} s CPU")
    print(f"warm - start-up   {net:.3f} s wall = {net / med['find']:.1f}× find "
          f"({net / nfiles * 1e6:.2f} µs/file); CPU {net_cpu:.3f} s = {net_cpu / med['find cpu']:.1f}× "
          f"find's CPU ({net_cpu / nfiles * 1e6:.2f} µs/file)")
    return 0


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--media", type=int, default=2000)
    ap.add_argument("--media-mb", type=float, default=1.5)
    ap.add_argument("--small", type=int, default=20000)
    ap.add_argument("--c2pa-copies", type=int, default=25)
    ap.add_argument("--keep", type=Path)
    ap.add_argument("--startup-only", action="store_true",
                    help="only the start-up measure (gate on an empty package vs python and sqlalchemy)")
    ap.add_argument("--startup-runs", type=int, default=9)
    ap.add_argument("--warm-runs", type=int, default=3,
                    help="warm gate, start-up and find, interleaved this many times (medians)")
    ap.add_argument("--skip-c2pa", action="store_true")
    ap.add_argument("--real-copies", type=int, default=4,
                    help="copies of each kind of real media for the real-media cold row (0: none)")
    ap.add_argument("--warm-only", action="store_true",
                    help="only the warm measure: one untimed cold gate, then warm gate, start-up and find")
    args = ap.parse_args()
    if args.startup_only:
        with tempfile.TemporaryDirectory(prefix="gate-bench-", dir=args.keep) as tmp:
            startup(args.startup_runs, Path(tmp))
        return 0
    work = Path(tempfile.mkdtemp(prefix="gate-bench-", dir=args.keep))
    state = work / "state"
    state.mkdir(mode=0o700)
    STATE.update(XDG_STATE_HOME=str(state), PROVENANCE_STATE_DIR=str(state / "provenance"))
    try:
        pkg = work / "pkg"
        total = make_package(pkg, args.media, args.media_mb, args.small)
        nfiles = args.media + args.small + 4
        print(f"package: {nfiles} files, {total / 1e9:.2f} GB ({args.media} x {args.media_mb} MB random, "
              f"{args.small} x 4 KB, 4 AI markers)")
        find_files = f"find {pkg} -type f -print0 | xargs -0 -n 256 -P 1"
        timed(f"{find_files} cat > /dev/null", shell=True)  # warm the page cache for everyone
        if args.warm_only:
            return warm_only(work, pkg, nfiles, args.warm_runs)
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t_ssl, _ = timed(f"{find_files} openssl dgst -sha256 > /dev/null", shell=True)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu_ssl = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        cfg = fresh_show(work / "show")
        t_cold, py_cold, kids_cold = gate_cpu(cfg, pkg, work / "rusage.json")
        rc_cold = "see JSON"
        empty = work / "empty"
        empty.mkdir()
        med = warm_rounds(cfg, pkg, empty, work, args.warm_runs)
        print(f"load average {os.getloadavg()[0]:.1f}; medians of {args.warm_runs} interleaved runs")
        print(f"openssl (with find, xargs): {t_ssl:.2f} s wall, CPU {cpu_ssl:.2f} s; "
              f"gate cold CPU / openssl CPU "
              f"{(py_cold + kids_cold) / cpu_ssl:.2f}×")
        print(f"gate cold: {t_cold:.2f} s wall; CPU Python {py_cold:.2f} s "
              f"({py_cold / nfiles * 1e6:.0f} µs/file), ExifTool {kids_cold:.2f} s "
              f"({kids_cold / nfiles * 1e6:.0f} µs/file)")
        cold_net = py_cold + kids_cold - med["start-up cpu"]
        print(f"gate cold CPU minus start-up ({med['start-up cpu']:.2f} s): {cold_net:.2f} s = "
              f"{cold_net / cpu_ssl:.2f}× openssl CPU")
        if args.media >= 20 and args.small == 0:  # the same, cold, on a tenth of the media
            part = sorted((pkg / "media").rglob("*.bin"))[: args.media // 10]
            tenth = work / "tenth"
            tenth_bytes = linked_subset([*part, *sorted((pkg / "markers").iterdir())], tenth, pkg)
            _, cpu_ssl_tenth = ssl_cpu(tenth)
            _, py_t, kids_t = gate_cpu(fresh_show(work / "show-tenth"), tenth, work / "rusage.json")
            slope("random media, cold", py_cold + kids_cold, py_t + kids_t, cpu_ssl, cpu_ssl_tenth,
                  total, tenth_bytes)
        print(f"find -printf {med['find']:.3f} s | gate start-up (empty folder) {med['start-up']:.2f} s | "
              f"gate warm {med['warm']:.2f} s (CPU {med['warm cpu']:.2f} s)")
        net = med["warm"] - med["start-up"]
        net_cpu = med["warm cpu"] - med["start-up cpu"]
        print(f"CPU: start-up {med['start-up cpu']:.2f} s, warm {med['warm cpu']:.2f} s, warm minus start-up "
              f"{net_cpu:.2f} s = {net_cpu / nfiles * 1e6:.0f} µs/file")
        print(f"warm minus start-up {net:.2f} s = {net / med['find']:.1f}× find, "
              f"{net / nfiles * 1e6:.0f} µs/file")
        t_find, t_warm, rc_warm = med["find"], med["warm"], 0
        # The floor for any CPython process that stats every file (what the warm gate must do).
        t_pywalk, _ = timed([sys.executable, "-c", PY_STAT_WALK, str(pkg)])
        # ...and what opening the ledger costs before any query (SQLAlchemy Core is the design).
        t_sqla, _ = timed([sys.executable, "-c", "import sqlalchemy"])
        print(f"openssl dgst -sha256 (xargs)   {t_ssl:8.2f} s   ({total / t_ssl / 1e6:.0f} MB/s)")
        print(f"gate cold (empty ledger)       {t_cold:8.2f} s   ratio {t_cold / t_ssl:.2f}x openssl   "
              f"(exit {rc_cold}; 1 = blocked on the markers)")
        print(f"find -printf (stat walk)       {t_find:8.2f} s")
        print(f"gate warm (unchanged)          {t_warm:8.2f} s   ratio {t_warm / t_find:.1f}x find   "
              f"(exit {rc_warm})")
        print(f"python scandir+stat walk       {t_pywalk:8.2f} s   ratio {t_pywalk / t_find:.1f}x find")
        print(f"python -c 'import sqlalchemy'  {t_sqla:8.2f} s   ratio {t_sqla / t_find:.1f}x find   "
              "(walk + this: the floor for a gate that reads and writes the ledger)")

        if args.real_copies:
            real_media_row(work, args.real_copies, med["start-up cpu"])
        startup(args.startup_runs, work)
        if args.skip_c2pa:
            return 0
        # C2PA validation apart: copies of signed sample files (each copy its own inode, so no cache).
        c2 = work / "c2pa"
        c2.mkdir()
        c2_bytes = 0
        for i in range(args.c2pa_copies):
            for s in C2PA_SAMPLES:
                shutil.copy(s, c2 / f"{i:03d}_{s.name}")
                c2_bytes += s.stat().st_size
        timed(f"find {c2} -type f -print0 | xargs -0 cat > /dev/null", shell=True)
        t_c2ssl, _ = timed(f"find {c2} -type f -print0 | xargs -0 openssl dgst -sha256 >/dev/null",
                           shell=True)
        cfg2 = fresh_show(work / "show2")
        t_c2, _ = timed(gate_cmd(cfg2, c2), env={**os.environ, **STATE})
        n2 = args.c2pa_copies * len(C2PA_SAMPLES)
        print(f"C2PA apart: {n2} signed files, {c2_bytes / 1e6:.1f} MB: gate cold {t_c2:.2f} s "
              f"({t_c2 / n2 * 1000:.1f} ms/file) vs openssl {t_c2ssl:.2f} s")
        return 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
