"""The gate's HTML report as headless Chromium lays it out, from a show scanned and gated for
real: blocked rows first and visible, frame ranges, approved assets with a preview, each
warning once per sequence, no path of the host that wrote it."""

from __future__ import annotations

from pathlib import Path

import pytest

from provenance.cli import main
from tests.gate.conftest import Show, ai_png
from tests.report.browser import colours, render
from tests.report.conftest import Studio


def test_gate_html_in_chromium(studio: Studio, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    out = tmp_path / "gate.html"
    assert studio.main("gate", "--html", out, studio.final) == 1
    html = out.read_text()
    assert str(studio.show.root) not in html and "/tmp/" not in html
    page = render(out, "#verdict, tr.asset, img.thumb, #clear", tmp_path / "chromium")
    verdict = page.boxes[0]
    assert verdict["shown"] and "BLOCKED — do not send" in str(verdict["text"])
    rows = [b for b in page.boxes if str(b["cls"]).startswith("asset")]
    assert [b["state"] for b in rows] == ["blocked", "blocked", "approved"]
    assert all(b["shown"] and b["right"] <= b["width"] for b in rows), rows
    assert [b["top"] for b in rows] == sorted(b["top"] for b in rows)
    seq, poster, matte = (str(b["text"]) for b in rows)
    assert "plates/shot010.1001-1004,1006-1010#.png" in seq
    assert "9 frames (1001-1004,1006-1010), missing 1005" in seq
    assert seq.count("unvetted-tool") == 1 and seq.count("temporary-material") == 1  # not once a frame
    assert seq.count("from memory") == 1 and "9 of 9 frames (1001-1004,1006-1010) from memory" in seq
    assert "poster.png" in poster and "LEGAL-42" in matte and "Legal" in matte
    # Every row that needs a look has its preview, the approved one included.
    thumbs = [b for b in page.boxes if b["cls"] == "thumb"]
    assert len(thumbs) == 3 and all(b["shown"] and b["height"] > 20 for b in thumbs)
    approved = rows[2]
    assert any(approved["top"] <= t["top"] < approved["top"] + approved["height"] for t in thumbs)
    assert "1 clear asset" in str(page.boxes[-1]["text"]) and "clean.png" in page.dom
    assert (179, 38, 30) in colours(page.screenshot)  # the blocked banner is painted


def test_names_from_the_show_folder_are_text_in_both_reports(
        show: Show, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """Whoever writes the show folder names its files: a name is shown, never run."""
    hostile = '<img src=x onerror="document.title=1">.png'
    ai_png(show.root / "final" / hostile)
    cfg = str(show.config_file)
    assert main(["scan", "--config", cfg, str(show.root)]) == 0
    gate_html, disclosure_html = tmp_path / "gate.html", tmp_path / "disclosure.html"
    assert main(["gate", "--config", cfg, "--html", str(gate_html), str(show.root / "final")]) == 1
    assert main(["report", "--disclosure", "--config", cfg, "--html", "--out", str(disclosure_html)]) == 0
    for page in (gate_html, disclosure_html):
        text = page.read_text()
        assert hostile not in text and "&lt;img src=x onerror=" in text, page.name
        assert "<script" not in text.lower()
