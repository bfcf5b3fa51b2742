"""The shot disclosure map's other faces: CSV, text, the HTML report seen in headless Chromium
(the blocked shot's row and its thumbnail at the clip's in-point), and a clip that is AI only
by content memory."""

from __future__ import annotations

import base64
import csv
import io
import json
import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image, ImageStat

from provenance.cli import main
from provenance.ledger import Ledger
from tests.gate.conftest import AI_IPTC, Show, ai_png, plain_png
from tests.memory.conftest import media_tools  # noqa: F401  (skips without ffmpeg/fpcalc/exiftool)
from tests.report.browser import render
from tests.timeline.conftest import Media, build, write


def _ai_movie(path: Path) -> Path:
    """Two seconds: black for the first, white for the second; tagged AI by real ExifTool."""
    path.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y",
                    "-f", "lavfi", "-i", "color=c=black:s=160x120:r=24:d=1",
                    "-f", "lavfi", "-i", "color=c=white:s=160x120:r=24:d=1",
                    "-filter_complex", "[0:v][1:v]concat=n=2:v=1[v]", "-map", "[v]",
                    "-c:v", "libx264", "-pix_fmt", "yuv420p", str(path)], check=True, capture_output=True)
    subprocess.run(["exiftool", "-q", "-overwrite_original", f"-XMP-iptcExt:DigitalSourceType={AI_IPTC}",
                    str(path)], check=True)
    return path


def test_csv_and_text_maps(show: Show, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    gen = ai_png(show.root / "media" / "=sky.png")  # a name a spreadsheet would run as a formula
    plain = plain_png(show.root / "media" / "a.png")
    edit = write(build([Media("a", plain), Media("=HYPERLINK(1)", gen, source_in=3)]), show.pkg / "cut.otio")
    out_csv, out_txt = tmp_path / "map.csv", tmp_path / "map.txt"
    rc = main(["gate", "--config", str(show.config_file), "--report", f"shot-map-csv={out_csv}",
               "--report", f"shot-map-text={out_txt}", str(edit)])
    assert rc == 1
    (row,) = csv.DictReader(io.StringIO(out_csv.read_text()))
    assert (row["shot"], row["track"], row["record_in"], row["record_out"]) == ("2", "V1", "01:00:01:00",
                                                                                "01:00:02:00")
    assert row["source_in"] == "00:00:00:03" and row["status"] == "blocked"
    assert row["clip"] == "'=HYPERLINK(1)" and row["approval"] == "pending: final-deliverable"
    text = out_txt.read_text()
    assert "shot map: " in text and "1 AI" in text and "#2 V1 01:00:01:00–01:00:02:00" in text


@pytest.mark.usefixtures("media_tools")
def test_html_map_shows_the_blocked_shot_with_its_in_point_in_chromium(
        show: Show, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    movie = _ai_movie(show.root / "media" / "gen_move.mp4")
    edit = write(build([Media("gen move", movie, source_in=36, duration=6, available=48)]),
                 show.pkg / "cut.otio")
    html = tmp_path / "gate.html"
    rc, report, _ = show.gate("--html", html, edit, capsys=capsys)
    assert rc == 1
    (shot,) = report["shot_map"]["edits"][0]["ai_shots"]
    assert shot["source_in"] == "00:00:01:12"
    page = html.read_text()
    section = page.split('<section class="shot-map"', 1)[1].split("</section>", 1)[0]
    assert str(show.root) not in section and "media/gen_move.mp4" in section  # relative to the show
    thumb = page.split('alt="clip 1 at its in-point" src="data:image/jpeg;base64,', 1)[1].split('"', 1)[0]
    picture = Image.open(io.BytesIO(base64.b64decode(thumb))).convert("L")
    assert ImageStat.Stat(picture).mean[0] > 200  # 1.5 s in: the white second, not the black first frame

    shown = render(html, "tr.shot, tr.shot img.thumb", tmp_path / "chromium")
    row, img = shown.boxes
    assert row["state"] == "blocked" and row["shown"] and "gen move" in str(row["text"])
    assert "01:00:00:00" in str(row["text"]) and "pending: final-deliverable" in str(row["text"])
    assert img["shown"] and float(str(img["height"])) > 20  # the thumbnail is laid out, not a broken image
    box = (int(float(str(img["left"]))), int(float(str(img["top"]))),
           int(float(str(img["right"]))), int(float(str(img["top"]))) + int(float(str(img["height"]))))
    assert ImageStat.Stat(shown.screenshot.crop(box).convert("L")).mean[0] > 150  # white frame on screen


@pytest.mark.usefixtures("media_tools")
def test_a_clip_that_is_ai_only_by_content_memory_is_blocked_naming_the_match(
        show: Show, corpus_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    original = show.root / "working" / "gen" / "matte_v002.png"
    original.parent.mkdir(parents=True)
    shutil.copyfile(corpus_dir / "d13_invokeai.png", original)  # AI by its own InvokeAI metadata
    assert main(["scan", "--config", str(show.config_file), str(original.parent)]) in (0, 1)
    derived = show.root / "media" / "matte_final.jpg"
    derived.parent.mkdir(parents=True)
    # a real re-encode: every tag gone
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-i", str(original), "-map_metadata", "-1",
                    "-q:v", "3", str(derived)], check=True, capture_output=True)
    rc, report, err = show.gate(write(build([Media("matte", derived)]), show.pkg / "cut.edl"), capsys=capsys)
    assert rc == 1, err
    (shot,) = report["shot_map"]["edits"][0]["ai_shots"]
    assert shot["status"] == "blocked" and shot["classification"] == "ai_generated"
    assert any(f"derived from {original}" in m for m in shot["memory"])


def test_report_disclosure_takes_a_timeline(show: Show, capsys: pytest.CaptureFixture[str]) -> None:
    gen = ai_png(show.root / "media" / "sky.png")
    edit = write(build([Media("sky", gen, source_in=2)]), show.pkg / "cut.edl")
    capsys.readouterr()
    assert main(["report", "--config", str(show.config_file), "--disclosure", "--json", str(edit)]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["schema"] == "provenance.shot-map/v1"
    (shot,) = data["edits"][0]["ai_shots"]
    assert (shot["clip"], shot["record_in"], shot["source_in"]) == ("sky", "00:00:00:00", "00:00:00:02")
    with Ledger.open(show.config.effective_ledger_url) as ledger, ledger.engine.connect() as c:
        assert c.exec_driver_sql("SELECT count(*) FROM gate_decisions").scalar() == 0  # records nothing

    assert main(["report", "--config", str(show.config_file), "--disclosure", "--csv", str(edit)]) == 0
    assert "sky" in capsys.readouterr().out
    missing = write(build([Media("gone", show.root / "gone.png")]), show.pkg / "cut2.otio")
    assert main(["report", "--config", str(show.config_file), "--disclosure", str(missing)]) == 3
    assert "MISSING" in capsys.readouterr().out
    assert main(["report", "--config", str(show.config_file), "--disclosure", str(show.pkg)]) == 2


def test_a_shot_map_without_the_shows_ledger_is_undecided_and_makes_none(
        show: Show, capsys: pytest.CaptureFixture[str]) -> None:
    """The map is the gate's own judging: an empty ledger made here would forget every AI clip."""
    edit = write(build([Media("sky", ai_png(show.root / "media" / "sky.png"))]), show.pkg / "cut.edl")
    db = show.root / ".provenance" / "ledger.db"
    for f in db.parent.glob("ledger.db*"):
        f.unlink()
    capsys.readouterr()
    assert main(["report", "--config", str(show.config_file), "--disclosure", "--json", str(edit)]) == 3
    assert "does not exist" in capsys.readouterr().err and not db.exists()


def test_an_otioz_members_thumbnail_is_in_the_html(show: Show, tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    """The bundle's media are judged from an extraction that lives until the reports are written."""
    gen = ai_png(show.root / "media" / "gen.png")
    edit = write(build([Media("gen", gen)]), show.pkg / "cut.otioz")
    html = tmp_path / "gate.html"
    rc, report, _ = show.gate("--html", html, edit, capsys=capsys)
    assert rc == 1
    (shot,) = report["shot_map"]["edits"][0]["ai_shots"]
    assert shot["file"] == "cut.otioz/media/gen.png"
    assert 'alt="clip 1 at its in-point" src="data:image/jpeg;base64,' in html.read_text()
