"""SIGKILL a tagger at random moments on a 1 GB file: the file is always whole.

After every kill the asset is byte-identical to the original or fully tagged (XMP
present, C2PA validating against our CA); anything left behind is one of our
`.provenance-tmp-*` temps, which the watcher ignores and the next run removes.

The tagger is killed alone (as the OOM killer would); its ExifTool and ffmpeg
children are left to finish or notice the closed pipe, and the test waits for them
before looking, because an orphaned ExifTool may still rename its own temp.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import c2pa
import pytest

from provenance.config import Config
from provenance.identity import SigningIdentity
from provenance.tagging.atomic import TMP_PREFIX, clean_stale_temps
from provenance.tagging.spec import DECLARATION_LABEL, TagSpec

TRIALS = 20
FRAME = 640 * 480 * 3
FRAMES = 1100  # 1.01 GB of random raw video in a QuickTime (ISO BMFF) container
SPEC = TagSpec.make("generated", "KillTest", "1")

TAGGER = """
import sys
from pathlib import Path
from provenance.identity import SigningIdentity
from provenance.tagging import Tagger, TagSpec
identity = SigningIdentity.in_dir(Path(sys.argv[1]))
with Tagger(identity) as t:
    r = t.tag(sys.argv[2], TagSpec.make("generated", "KillTest", "1"))
print(r.outcome, r.reason, flush=True)
"""


def sha256(path: Path) -> str:
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


@pytest.fixture(scope="session")
def big_original(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """Made once per session: real bytes (random pixels), not a sparse file."""
    path = tmp_path_factory.mktemp("big") / "pristine.mov"
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-f", "rawvideo", "-pix_fmt", "rgb24",
                    "-s", "640x480", "-r", "25", "-i", "/dev/urandom", "-frames:v", str(FRAMES),
                    "-c:v", "copy", str(path)], check=True)
    assert path.stat().st_size > 1_000_000_000
    assert path.stat().st_blocks * 512 >= path.stat().st_size  # not sparse
    return path, sha256(path)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def _wait_group(pgid: int, limit_s: float = 120) -> None:
    deadline = time.monotonic() + limit_s
    while _group_alive(pgid) and time.monotonic() < deadline:
        time.sleep(0.05)
    if _group_alive(pgid):  # never leave strays behind a failed test
        os.killpg(pgid, signal.SIGKILL)
        pytest.fail("children of the killed tagger did not exit")


def _fully_tagged(path: Path, ca_pem: str) -> bool:
    ctx = c2pa.Context.from_dict({"trust": {"trust_anchors": ca_pem},
                                  "verify": {"remote_manifest_fetch": False}})
    with open(path, "rb") as fh, c2pa.Reader("video/quicktime", fh, context=ctx) as reader:
        store = json.loads(reader.json())
    if store["validation_state"] != "Trusted":
        return False
    active = store["manifests"][store["active_manifest"]]
    decl = [a["data"] for a in active["assertions"] if a["label"] == DECLARATION_LABEL]
    xmp = subprocess.run(["exiftool", "-api", "LargeFileSupport=1", "-s3",
                          "-XMP-iptcExt:DigitalSourceType", str(path)],
                         capture_output=True, text=True, check=True).stdout
    return decl == [SPEC.declaration()] and xmp.strip().endswith("/trainedAlgorithmicMedia")


@pytest.mark.slow
def test_sigkill_never_corrupts(tmp_path: Path, big_original: tuple[Path, str],
                                signing_identity: SigningIdentity) -> None:
    pristine, pristine_sha = big_original
    assert signing_identity.ca_path is not None
    ca_pem = signing_identity.ca_path.read_text()
    work = tmp_path / "work"
    work.mkdir()
    asset = work / "plate.mov"
    script = tmp_path / "tagger.py"
    script.write_text(TAGGER)
    config = Config(base_dir=work)
    seed = int(os.environ.get("KILL_TEST_SEED", time.time_ns() % 100_000))
    rng = random.Random(seed)

    def start() -> subprocess.Popen[bytes]:
        return subprocess.Popen([sys.executable, str(script),
                                 str(signing_identity.chain_path.parent), str(asset)],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                start_new_session=True)

    # One uninterrupted run sets the window the kills are spread over.
    shutil.copyfile(pristine, asset)
    t0 = time.monotonic()
    proc = start()
    out, err = proc.communicate(timeout=300)
    full_run = time.monotonic() - t0
    assert out.startswith(b"written"), out + err
    _wait_group(proc.pid)

    outcomes: Counter[str] = Counter()
    shutil.copyfile(pristine, asset)
    for trial in range(TRIALS):
        delay = rng.uniform(0.0, full_run * 1.05)
        proc = start()
        try:
            proc.wait(timeout=delay)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
        _wait_group(proc.pid)
        where = f"trial {trial} (seed {seed}, kill after {delay:.2f}s)"

        leftovers = sorted(p.name for p in work.iterdir() if p.name != asset.name)
        for name in leftovers:
            assert name.startswith(TMP_PREFIX), f"{where}: stray file {name!r}"
            assert config.is_ignored(work / name), f"{where}: watcher would read {name!r}"
        removed = clean_stale_temps(work)
        assert sorted(p.name for p in removed) == leftovers, where
        assert [p.name for p in work.iterdir()] == [asset.name], where

        if sha256(asset) == pristine_sha:
            state = "original"
        else:
            assert _fully_tagged(asset, ca_pem), f"{where}: file is neither original nor tagged"
            state = "tagged"
            shutil.copyfile(pristine, asset)  # the next trial starts from the original
        outcomes[f"{state}{'+temps' if leftovers else ''}"] += 1
    print(f"\nkill test: seed {seed}, full run {full_run:.1f}s, outcomes {dict(outcomes)}")
    assert sum(outcomes.values()) == TRIALS
