"""What the handoff hooks deliver while a file is being swapped, and what staging costs.

race    RUNS gated transfers of a package in which a writer process swaps one file between
        clean and AI bytes (rename, every 20 ms; AI one swap in three), two ways in one run:
          gate-then-rsync  `provenance gate PKG && rsync -a PKG/ DEST/` (what the hooks did)
          rsync-gated      `hooks/rsync-gated -a PKG/ DEST/` (staging copy, then send it)
        and counts runs cleared and runs that delivered the AI bytes.
staging FILES small files: `hooks/pre-handoff PKG -- true` against its baseline, `provenance
        gate PKG` on the unstaged package, both warm (one untimed gate first), and `cp -a` alone.

    .venv/bin/python bench/handoff.py [--runs 20] [--files 2000]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image
from PIL.PngImagePlugin import PngInfo

from provenance.ledger import Ledger

REPO = Path(__file__).resolve().parent.parent
PROVENANCE = REPO / ".venv" / "bin" / "provenance"
HOOKS = REPO / "hooks"
CONFIG = ('[ledger]\nurl = "sqlite:///.provenance/ledger.db"\n[policy]\nunknown = "pass"\n'
          'unvetted_tools = "warn"\n')
SWAPPER = """
import os, sys, time
clean, ai, target, spare, stop = sys.argv[1:]
data = [open(clean, "rb").read(), open(ai, "rb").read()]
i = 0
while not os.path.exists(stop):
    tmp = os.path.join(spare, f"t{i}")
    with open(tmp, "wb") as fh:
        fh.write(data[i % 3 == 2])
    os.replace(tmp, target)
    i += 1
    time.sleep(0.02)
"""


def png(path: Path, ai: bool, seed: int) -> bytes:
    info = PngInfo()
    if ai:
        info.add_text("parameters", f"a castle\nSteps: 20, Sampler: Euler a, CFG scale: 7, Seed: {seed}, "
                                    "Size: 64x64, Model: sd15")
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (64, 64), (seed % 256, 80, 40)).save(path, pnginfo=info)
    return path.read_bytes()


def race(root: Path, runs: int) -> None:
    show = root / "show"
    pkg = show / "deliveries" / "EP101"
    (show / ".provenance").mkdir(parents=True)
    (show / "provenance.toml").write_text(CONFIG)
    Ledger.open(f"sqlite:///{show / '.provenance' / 'ledger.db'}").close()  # the gate never makes one
    clean = png(root / "side" / "clean.png", False, 1)
    png(root / "side" / "ai.png", True, 1)
    png(pkg / "other.png", False, 2)
    (pkg / "shot.png").write_bytes(clean)
    (show / "deliveries" / ".spare").mkdir()
    stop = root / "stop"
    writer = subprocess.Popen([sys.executable, "-c", SWAPPER, str(root / "side" / "clean.png"),
                               str(root / "side" / "ai.png"), str(pkg / "shot.png"),
                               str(show / "deliveries" / ".spare"), str(stop)])
    clean_sha = hashlib.sha256(clean).hexdigest()
    env = {**os.environ, "PROVENANCE": str(PROVENANCE),
           "PROVENANCE_GATE_ARGS": f"--config {show / 'provenance.toml'}"}
    ways = {
        "gate-then-rsync": lambda dest: f"'{PROVENANCE}' gate --config '{show / 'provenance.toml'}' '{pkg}' "
                                        f"2>/dev/null && rsync -a '{pkg}/' '{dest}/'",
        "rsync-gated": lambda dest: f"'{HOOKS / 'rsync-gated'}' -a '{pkg}/' '{dest}/' 2>/dev/null",
    }
    try:
        for name, cmd in ways.items():
            cleared = ai_sent = 0
            for i in range(runs):
                dest = root / f"{name}-{i}"
                if subprocess.run(cmd(dest), shell=True, env=env).returncode == 0:
                    cleared += 1
                    sent = hashlib.sha256((dest / "shot.png").read_bytes()).hexdigest()
                    ai_sent += sent != clean_sha
            print(f"race  {name:16} {runs} runs: {cleared} cleared, {ai_sent} delivered the AI bytes")
    finally:
        stop.touch()
        writer.wait(30)


def staging(root: Path, files: int) -> None:
    show = root / "show2"
    pkg = show / "deliveries" / "EP102"
    (show / ".provenance").mkdir(parents=True)
    (show / "provenance.toml").write_text(CONFIG)
    Ledger.open(f"sqlite:///{show / '.provenance' / 'ledger.db'}").close()  # the gate never makes one
    for i in range(files):
        d = pkg / f"d{i // 500:02d}"
        d.mkdir(parents=True, exist_ok=True)
        (d / f"note_{i:05d}.txt").write_text(f"note {i}\n" + os.urandom(1500).hex())
    cfg = show / "provenance.toml"
    env = {**os.environ, "PROVENANCE": str(PROVENANCE)}
    subprocess.run([PROVENANCE, "gate", "--config", cfg, pkg], capture_output=True, check=True)

    def timed(cmd: list[str | Path]) -> float:
        t = time.perf_counter()
        subprocess.run(cmd, capture_output=True, check=True, env=env)
        return time.perf_counter() - t

    gate = timed([PROVENANCE, "gate", "--config", cfg, pkg])
    hook = timed([HOOKS / "pre-handoff", "--config", cfg, pkg, "--", "true"])
    copy_dir = root / "copy"
    copy = timed(["cp", "-a", "--reflink=auto", pkg, copy_dir])
    print(f"staging {files} files: gate (warm, unstaged) {gate:.2f} s; pre-handoff -- true {hook:.2f} s "
          f"({hook / gate:.1f}x); cp -a alone {copy:.2f} s")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--files", type=int, default=2000)
    args = ap.parse_args()
    root = Path(tempfile.mkdtemp(prefix="bench-handoff-"))
    try:
        race(root, args.runs)
        staging(root, args.files)
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
