"""Each way media lands on storage, through a real inotify observer on a real folder.

Whatever the copy pattern, the ledger must end up with the final bytes' hash and never a
half-written file's, and an AI file in final/ must be flagged.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image
from PIL.PngImagePlugin import PngInfo

from tests.watch.conftest import Running, open_at, png_bytes, sha, slow_write, verdict_shas, wait_for

TEMPORARY = "temporary-material"


def big_ai_png(seed: int, side: int = 700) -> bytes:
    """~1.5 MB of incompressible pixels with an A1111 chunk: big enough to be copied in pieces."""
    info = PngInfo()
    info.add_text("parameters", f"noise {seed}\nSteps: 20, Sampler: Euler a, Seed: {seed}, Model: sd15")
    buf = io.BytesIO()
    Image.frombytes("RGB", (side, side), os.urandom(side * side * 3)).save(buf, "PNG", pnginfo=info,
                                                                              compress_level=0)
    return buf.getvalue()


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    d = tmp_path / "elsewhere"
    d.mkdir()
    return d


def test_cp_into_final_is_flagged(running: Running, outside: Path) -> None:
    data = png_bytes(1, ai=True)
    (outside / "gen.png").write_bytes(data)
    dest = running.root / "final" / "gen.png"
    subprocess.run(["cp", str(outside / "gen.png"), str(dest)], check=True)
    running.wait_location(dest, sha(data))
    wait_for(lambda: TEMPORARY in open_at(running.ledger, dest), what="a temporary-material finding")


def test_shutil_copy2_into_working_is_recorded_without_finding(running: Running, outside: Path) -> None:
    data = png_bytes(2, ai=True)
    (outside / "gen.png").write_bytes(data)
    dest = running.root / "working" / "gen.png"
    shutil.copy2(outside / "gen.png", dest)
    running.wait_location(dest, sha(data))
    running.idle()
    assert TEMPORARY not in open_at(running.ledger, dest)  # generated material may live in working/


@pytest.mark.skipif(shutil.which("rsync") is None, reason="rsync is not installed")
def test_rsync_temp_then_rename_records_only_the_final_name(running: Running, outside: Path) -> None:
    data = big_ai_png(3)
    (outside / "plate.png").write_bytes(data)
    subprocess.run(["rsync", str(outside / "plate.png"), str(running.root / "final") + "/"], check=True)
    dest = running.root / "final" / "plate.png"
    running.wait_location(dest, sha(data))
    running.idle()
    paths = [loc.path for loc in running.ledger.locations()]
    assert not [p for p in paths if os.path.basename(p).startswith(".plate.png.")], paths
    assert set(verdict_shas(running.ledger, dest)) == {sha(data)}
    assert TEMPORARY in open_at(running.ledger, dest)


@pytest.mark.skipif(shutil.which("rsync") is None, reason="rsync is not installed")
def test_rsync_inplace_is_never_read_half_written(running: Running, outside: Path) -> None:
    data = big_ai_png(4, side=1400)  # ~6 MB, written under its final name
    (outside / "plate.png").write_bytes(data)
    dest = running.root / "final" / "plate.png"
    subprocess.run(["rsync", "--inplace", "--bwlimit=3000", str(outside / "plate.png"), str(dest)],
                   check=True)
    running.wait_location(dest, sha(data))
    running.idle()
    assert set(verdict_shas(running.ledger, dest)) == {sha(data)}


def test_mv_into_the_tree_without_close_event_is_seen(running: Running, outside: Path) -> None:
    data = png_bytes(5, ai=True)
    src = outside / "moved.png"
    src.write_bytes(data)
    dest = running.root / "final" / "moved.png"
    os.rename(src, dest)  # same filesystem: created + no close event
    running.wait_location(dest, sha(data))
    wait_for(lambda: TEMPORARY in open_at(running.ledger, dest), what="finding for the mv'd file")


def test_slow_writer_is_read_only_once_complete(running: Running) -> None:
    data = big_ai_png(6)
    dest = running.root / "final" / "growing.png"
    slow_write(dest, data, chunks=25, pause=0.1)  # 2.5 s of appends, each gap shorter than settle
    running.wait_location(dest, sha(data))
    running.idle()
    assert verdict_shas(running.ledger, dest) == [sha(data)]


def test_rename_working_to_final_is_flagged_and_old_path_removed(running: Running) -> None:
    data = png_bytes(7, ai=True)
    src = running.root / "working" / "shot.png"
    src.write_bytes(data)
    running.wait_location(src, sha(data))
    running.idle()
    assert TEMPORARY not in open_at(running.ledger, src)
    dest = running.root / "final" / "shot.png"
    os.rename(src, dest)  # same bytes, new zone
    wait_for(lambda: TEMPORARY in open_at(running.ledger, dest), what="finding after rename to final/")
    wait_for(lambda: running.location(src) is None, what="old path removed")


def test_overwrite_updates_hash_and_findings(running: Running) -> None:
    dest = running.root / "final" / "frame.png"
    plain, ai = png_bytes(8, ai=False), png_bytes(9, ai=True)
    dest.write_bytes(plain)
    running.wait_location(dest, sha(plain))
    running.idle()
    assert open_at(running.ledger, dest) == []
    dest.write_bytes(ai)  # overwrite in place: closed event only, no created
    running.wait_location(dest, sha(ai))
    wait_for(lambda: TEMPORARY in open_at(running.ledger, dest), what="finding after overwrite with AI")
    dest.write_bytes(plain)  # and back: the AI bytes are no longer at this path
    running.wait_location(dest, sha(plain))
    wait_for(lambda: open_at(running.ledger, dest) == [], what="finding resolved after overwrite")


def test_delete_records_removal_and_resolves_finding(running: Running) -> None:
    dest = running.root / "final" / "gone.png"
    dest.write_bytes(png_bytes(10, ai=True))
    wait_for(lambda: TEMPORARY in open_at(running.ledger, dest), what="finding")
    dest.unlink()
    wait_for(lambda: running.location(dest) is None, what="removal recorded")
    wait_for(lambda: open_at(running.ledger, dest) == [], what="finding resolved")


def test_moving_out_of_final_resolves_only_that_copy(running: Running) -> None:
    data = png_bytes(11, ai=True)
    a, b = running.root / "final" / "a.png", running.root / "final" / "b.png"
    a.write_bytes(data)
    b.write_bytes(data)
    wait_for(lambda: TEMPORARY in open_at(running.ledger, a) and TEMPORARY in open_at(running.ledger, b),
             what="both copies flagged")
    os.rename(a, running.root / "working" / "a.png")
    wait_for(lambda: open_at(running.ledger, a) == [], what="moved copy resolved")
    running.idle()
    assert TEMPORARY in open_at(running.ledger, b)  # same bytes still in final/: still flagged
