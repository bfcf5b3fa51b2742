"""A finished master with an AI clip cut in: blocked, with the clip's time range and what it matches."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from provenance.cli import main
from tests.gate.conftest import Show, asset
from tests.imf.conftest import valid_gate_report


@pytest.fixture(scope="module")
def tools() -> None:
    for tool in ("ffmpeg", "exiftool"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed (./dev setup installs it)")


def _master(out: Path, still: Path) -> Path:
    """Two seconds of test pattern, two seconds rendered from the AI still, two of another pattern."""
    subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-y",
         "-f", "lavfi", "-i", "testsrc=size=320x240:rate=24:duration=2",
         "-loop", "1", "-t", "2", "-r", "24", "-i", str(still),
         "-f", "lavfi", "-i", "mandelbrot=size=320x240:rate=24", "-t", "6",
         "-filter_complex", "[1:v]scale=320:240,setsar=1,format=yuv420p[ai];"
                            "[2:v]trim=duration=2,format=yuv420p[m];"
                            "[0:v]format=yuv420p[a];[a][ai][m]concat=n=3:v=1[v]",
         "-map", "[v]", "-c:v", "libx264", "-preset", "veryfast", "-crf", "23", str(out)],
        check=True, capture_output=True)
    return out


def test_a_master_with_an_ai_clip_cut_in_is_blocked_with_its_time_range(
        show: Show, tools: None, corpus_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    still = show.root / "working" / "gen" / "sky_v003.png"
    still.parent.mkdir(parents=True)
    shutil.copyfile(corpus_dir / "d13_invokeai.png", still)  # AI by its own InvokeAI metadata
    assert main(["scan", "--config", str(show.config_file), str(still.parent)]) in (0, 1)
    _master(show.pkg / "EP101_master.mp4", still)

    html = show.root / "gate.html"
    rc, report, err = show.gate("--html", html, show.pkg, capsys=capsys)
    assert rc == 1
    master = asset(report, "EP101_master.mp4")
    assert (master["status"], master["classification"]) == ("blocked", "ai_generated")
    valid_gate_report(report)
    (entry,) = report["masters"]
    assert entry["path"] == "EP101_master.mp4" and entry["frame_rate"] == "24/1"
    (segment,) = entry["segments"]
    # the clip runs 2.0–4.0 s; sampling every 0.25 s finds it within one sample
    assert abs(segment["start"] - 2.0) <= 0.25 and abs(segment["end"] - 4.0) <= 0.25, segment
    assert segment["timecode_in"] in ("00:00:02:00", "00:00:01:18")
    assert segment["original"] == str(still) and segment["band"] == "match"
    assert "AI segment 00:00:0" in err and "matches sky_v003.png" in err
    page = html.read_text()
    assert '<table class="master-segments">' in page and f"<td>{segment['timecode_in']}–" in page


def test_a_master_without_ai_material_has_no_segments(
        show: Show, tools: None, corpus_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    plain = show.root / "plain.png"
    shutil.copyfile(corpus_dir / "d23_crater-lake.jpeg", plain)
    _master(show.pkg / "EP101_master.mp4", plain)
    rc, report, _ = show.gate(show.pkg, capsys=capsys)
    assert rc == 0 and report["masters"] == []
