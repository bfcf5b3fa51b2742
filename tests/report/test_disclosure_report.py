"""The disclosure report a studio contact receives, from a show scanned for real: title and
period, totals, sequences with ranges, paths relative to the show, what is gone said so —
and the HTML as headless Chromium lays it out."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from provenance.report.disclosure import CSV_FIELDS
from tests.report.browser import colours, render
from tests.report.conftest import Studio

SEQUENCE = "final/plates/shot010.1001-1004,1006-1010#.png"


def _report(studio: Studio, capsys: pytest.CaptureFixture[str], fmt: str) -> str:
    capsys.readouterr()
    assert studio.main("report", "--disclosure", fmt) == 0
    return capsys.readouterr().out


def test_json_and_csv_carry_title_totals_sequences_and_what_is_gone(
        studio: Studio, capsys: pytest.CaptureFixture[str]) -> None:
    doc = json.loads(_report(studio, capsys, "--json"))
    assert doc["show"] == "The Long Night" and doc["count"] == 13
    totals = doc["totals"]
    assert (totals["assets"], totals["files"]) == (5, 13)  # the nine frames are one asset
    assert totals["by_approval_state"] == {"pending": 2, "approved": 1, "not-needed": 1, "not-on-storage": 1}
    assert totals["by_tool"] == {"Stable Diffusion (AUTOMATIC1111-style)": 3, "Adobe Firefly": 1,
                                 "ComfyUI": 1}
    assert totals["period"]["first_seen"] <= totals["period"]["last_seen"]
    assert all(not p.startswith("/") for a in doc["assets"] for p in a["paths"])
    by_path = {a["paths"][0]: a for a in doc["assets"]}
    assert by_path["final/matte.jpg"]["approval_state"] == "approved"
    assert by_path["working/concept.png"]["state"] == "no approval needed (working material)"
    gone = by_path["working/old_idea.png"]  # scanned, then deleted: named by where it last was
    assert (gone["on_storage"], gone["state"], gone["approval_state"]) == (
        False, "no longer on storage", "not-on-storage")
    frames = [a for a in doc["assets"] if a["sequence"] == SEQUENCE]
    assert len(frames) == 9 and {a["state"] for a in frames} == {"pending: final-deliverable"}

    rows = list(csv.DictReader(io.StringIO(_report(studio, capsys, "--csv"))))
    assert tuple(rows[0]) == CSV_FIELDS and len(rows) == 13
    assert sum(r["sequence"] == SEQUENCE for r in rows) == 9
    assert [r["paths"] for r in rows if r["on_storage"] == "no"] == ["working/old_idea.png"]


def test_html_in_chromium_shows_title_totals_pending_first_and_previews(
        studio: Studio, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    out = tmp_path / "disclosure.html"
    assert studio.main("report", "--disclosure", "--html", "--out", out) == 0
    html = out.read_text()
    assert str(studio.show.root) not in html and "/tmp/" not in html  # nothing of the host's paths
    page = render(out, "h1, tr.asset, #by-state tr, #by-tool tr, img.thumb", tmp_path / "chromium")
    assert "The Long Night" in page.boxes[0]["text"]
    rows = [b for b in page.boxes if str(b["cls"]).startswith("asset")]
    assert [b["state"] for b in rows] == ["pending", "pending", "approved", "not-needed", "not-on-storage"]
    assert all(b["shown"] and b["right"] <= b["width"] for b in rows), rows  # laid out, not clipped
    assert [b["top"] for b in rows] == sorted(b["top"] for b in rows)  # pending at the top
    seq, poster, matte = rows[0]["text"], rows[1]["text"], rows[2]["text"]
    assert SEQUENCE in seq and "9 frames (1001-1004,1006-1010), missing 1005" in seq
    assert "final/poster.png" in poster and "final/matte.jpg" in matte and "LEGAL-42" in matte
    assert "was at" in rows[4]["text"] and "working/old_idea.png" in rows[4]["text"]
    assert "no longer on storage" in rows[4]["text"].lower()
    totals = [" ".join(str(b["text"]).split()) for b in page.boxes if b["cls"] == "" and b["shown"]]
    assert {"pending 2", "approved 1", "not-needed 1", "not-on-storage 1",
            "Stable Diffusion (AUTOMATIC1111-style) 3", "Adobe Firefly 1"} <= set(totals), totals
    thumbs = [b for b in page.boxes if b["cls"] == "thumb"]
    assert len(thumbs) == 4 and all(b["shown"] and b["height"] > 20 for b in thumbs)  # all but the gone one
    # Not a blank page: the pending rows' tint, the approved green and the pictures are painted.
    painted = colours(page.screenshot)
    assert len(painted) > 1000 and (253, 240, 239) in painted
