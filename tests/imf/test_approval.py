"""AI material inside an IMF package: blocked with its CPL timecode; an approval of the
package's (asset UUID, sha256) set clears it, written beside the package, never inside."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from provenance.cli import main
from provenance.model import Scope
from tests.gate.conftest import Show, asset
from tests.imf.build import (
    Built,
    Track,
    ffmpeg,
    reel_mxf,
    relist,
    video_mxf,
    write_package,
)
from tests.imf.conftest import valid_gate_report


def _scan_ai_still(show: Show, corpus_dir: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    """The AI still as the artist left it in working/: `scan` remembers what it looks like."""
    still = show.root / "working" / "gen" / "sky_v003.png"
    still.parent.mkdir(parents=True)
    shutil.copyfile(corpus_dir / "d13_invokeai.png", still)  # InvokeAI metadata: AI by its own tags
    assert main(["scan", "--config", str(show.config_file), str(still.parent)]) in (0, 1)
    capsys.readouterr()
    return still


@pytest.fixture
def ai_imp(show: Show, track_files: Path, corpus_dir: Path, capsys: pytest.CaptureFixture[str]) -> Built:
    """Segment 1: two seconds of camera picture and sound; segment 2: one second rendered from
    an AI still (an editor's render strips every tag: only content memory knows it)."""
    _scan_ai_still(show, corpus_dir, capsys)
    for made, name in (("V.mxf", "V01.mxf"), ("SKY.mxf", "V02_sky.mxf"), ("A.mxf", "A01.mxf")):
        shutil.copyfile(track_files / made, show.pkg / name)
    tracks = [Track("V01.mxf", "MainImageSequence", 48), Track("V02_sky.mxf", "MainImageSequence", 24),
              Track("A01.mxf", "MainAudioSequence", 96000, "48000 1")]
    return write_package(show.pkg, tracks, [[("V01.mxf", 0, 48), ("A01.mxf", 0, 96000)],
                                            [("V02_sky.mxf", 0, 24)]])


def _approve(show: Show, target: Path, capsys: pytest.CaptureFixture[str]) -> int:
    key = show.keys.get("Legal") or show.add_approver("Legal", {Scope.FINAL_DELIVERABLE})
    capsys.readouterr()
    rc = main(["approve", "--config", str(show.config_file), str(target), "--scope", "final-deliverable",
               "--ref", "LEGAL-7", "--key", str(key)])
    capsys.readouterr()
    return rc


def test_an_ai_still_turned_into_a_track_file_is_blocked_at_its_cpl_timecode(
        show: Show, ai_imp: Built, capsys: pytest.CaptureFixture[str]) -> None:
    html = show.root / "gate.html"
    rc, report, err = show.gate("--html", html, show.pkg, capsys=capsys)
    assert rc == 1
    sky = asset(report, "V02_sky.mxf")
    assert (sky["status"], sky["classification"]) == ("blocked", "ai_generated")
    assert asset(report, "V01.mxf")["status"] == "clear"
    valid_gate_report(report)
    (row,) = report["packages"][0]["timeline"]
    assert row["path"] == "V02_sky.mxf" and row["track_file_id"] == ai_imp.uuid_of("V02_sky.mxf")
    # segment 2 starts after segment 1's 48 edit units, at the CPL's 01:00:00:00 start
    assert (row["segment"], row["sequence"]) == (2, "MainImageSequence")
    assert (row["record_in"], row["record_out"]) == (48, 72)
    assert (row["timecode_in"], row["timecode_out"]) == ("01:00:02:00", "01:00:03:00")
    assert (row["entry_point"], row["source_duration"], row["edit_rate"]) == (0, 24, "24/1")
    assert "on the timeline of EP101 Final: 01:00:02:00–01:00:03:00 (segment 2, MainImageSequence" in err
    page = html.read_text()
    assert '<table class="imf-timeline">' in page and "<td>01:00:02:00–01:00:03:00</td>" in page


def test_an_approval_of_the_package_set_clears_it_and_is_written_beside_the_package(
        show: Show, ai_imp: Built, capsys: pytest.CaptureFixture[str]) -> None:
    before = sorted(p.name for p in show.pkg.iterdir())
    assert _approve(show, show.pkg, capsys) == 0
    assert sorted(p.name for p in show.pkg.iterdir()) == before  # nothing written inside
    assert (show.pkg.parent / "EP101.approval.json").is_file()
    rc, report, _ = show.gate(show.pkg, capsys=capsys)
    assert rc == 0, [a["reasons"] for a in report["assets"] if a["status"] != "clear"]
    sky = asset(report, "V02_sky.mxf")
    assert sky["status"] == "approved" and sky["approvals"][0]["approver"] == "Legal"
    pkg = report["packages"][0]
    assert pkg["approvals"][0]["subject_sha256"] == pkg["assets_sha256"]
    assert pkg["timeline"][0]["status"] == "approved"


def test_the_same_approval_after_one_asset_changed_does_not_clear(
        show: Show, ai_imp: Built, capsys: pytest.CaptureFixture[str]) -> None:
    assert _approve(show, show.pkg, capsys) == 0
    # a camera track re-rendered, and the PKL re-written to match: the package verifies again,
    # but it is not the set that was approved
    video_mxf(show.pkg / "V01.mxf", source="testsrc2=size=160x120:rate=24")
    relist(ai_imp)
    rc, report, _ = show.gate(show.pkg, capsys=capsys)
    assert rc == 1
    assert report["packages"][0]["problems"] == []
    sky = asset(report, "V02_sky.mxf")
    assert sky["status"] == "blocked"
    assert any("approval rejected" in r and "is for sha256" in r for r in sky["reasons"]), sky["reasons"]


def test_a_package_that_does_not_verify_is_not_approved(
        show: Show, ai_imp: Built, capsys: pytest.CaptureFixture[str]) -> None:
    (show.pkg / "notes.txt").write_text("left behind")
    assert _approve(show, show.pkg, capsys) == 3
    assert not (show.pkg.parent / "EP101.approval.json").exists()


def test_with_an_approvals_folder_the_package_approval_goes_above_the_package(
        show: Show, ai_imp: Built, capsys: pytest.CaptureFixture[str]) -> None:
    text = show.config_file.read_text()
    line = 'approvers_file = "approvers.toml"\n'
    show.config_file.write_text(text.replace(line, line + 'package_folder = "approvals"\n'))
    (show.pkg.parent / "approvals").mkdir()
    before = sorted(str(p) for p in show.pkg.rglob("*"))
    assert _approve(show, show.pkg, capsys) == 0
    assert sorted(str(p) for p in show.pkg.rglob("*")) == before
    assert (show.pkg.parent / "approvals" / "EP101.approval.json").is_file()
    assert show.gate(show.pkg, capsys=capsys)[0] == 0


def test_a_file_inside_a_package_is_not_approved_on_its_own(
        show: Show, ai_imp: Built, capsys: pytest.CaptureFixture[str]) -> None:
    before = sorted(str(p) for p in show.pkg.rglob("*"))
    assert _approve(show, show.pkg / "V02_sky.mxf", capsys) == 3
    assert sorted(str(p) for p in show.pkg.rglob("*")) == before
    assert show.gate(show.pkg, capsys=capsys)[0] == 1


def test_an_ai_shot_inside_a_reel_is_placed_at_its_own_timecode(
        show: Show, media_tools: None, corpus_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The reel's AI second (track file 1.0–2.0 s) played from entry point 12: on the timeline
    from edit unit 12 to 36, not the whole resource."""
    still = _scan_ai_still(show, corpus_dir, capsys)
    reel_mxf(still, show.pkg / "REEL1.mxf")
    built = write_package(show.pkg, [Track("REEL1.mxf", "MainImageSequence", 72)], [[("REEL1.mxf", 12, 60)]])
    rc, report, _ = show.gate(show.pkg, capsys=capsys)
    assert rc == 1
    (segment,) = report["masters"][0]["segments"]
    (row,) = report["packages"][0]["timeline"]
    assert row["track_file_id"] == built.uuid_of("REEL1.mxf")
    # one 0.25 s sample (6 edit units) of slack either side
    assert abs(row["record_in"] - 12) <= 6 and abs(row["record_out"] - 36) <= 6, (row, segment)
    assert abs(row["source_in"] - 24) <= 6 and abs(row["source_out"] - 48) <= 6
    assert row["timecode_in"].startswith("01:00:00:") and row["record_out"] < 60


def test_an_ai_voice_in_a_sound_track_file_is_blocked_on_the_audio_sequence(
        show: Show, media_tools: None, corpus_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """IMF keeps sound in its own MXF track files: content memory hears them too."""
    voice = show.root / "working" / "vo" / "temp_vo.wav"
    voice.parent.mkdir(parents=True)
    ffmpeg("-i", str(corpus_dir / "d36_sample1.mp3"), "-t", "4", str(voice))
    assert main(["tag", "--config", str(show.config_file), "--generated", "--tool", "ElevenLabs", "--no-c2pa",
                 str(voice)]) == 0
    assert main(["scan", "--config", str(show.config_file), str(voice.parent)]) in (0, 1)
    video_mxf(show.pkg / "V01.mxf", seconds=4)
    ffmpeg("-i", str(voice), "-ac", "1", "-ar", "48000", "-c:a", "pcm_s24le", "-f", "mxf_opatom",
           str(show.pkg / "A01.mxf"))  # every tag gone: only what it sounds like is left
    write_package(show.pkg, [Track("V01.mxf", "MainImageSequence", 96),
                             Track("A01.mxf", "MainAudioSequence", 192000, "48000 1")],
                  [[("V01.mxf", 0, 96), ("A01.mxf", 0, 192000)]])
    rc, report, _ = show.gate(show.pkg, capsys=capsys)
    assert rc == 1
    sound = asset(report, "A01.mxf")
    assert (sound["status"], sound["classification"]) == ("blocked", "ai_generated")
    assert "sounds like" in " ".join(sound["reasons"])
    (row,) = report["packages"][0]["timeline"]
    assert (row["sequence"], row["timecode_in"], row["timecode_out"]) == (
        "MainAudioSequence", "01:00:00:00", "01:00:04:00")
    assert asset(report, "V01.mxf")["status"] == "clear"
