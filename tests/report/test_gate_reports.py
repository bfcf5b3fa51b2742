"""The gate's JUnit and HTML reports written by the real CLI (moved from tests/gate/test_gate.py)."""

from __future__ import annotations

import os
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.gate.conftest import Show, ai_png, plain_png


def test_junit_report_parses_with_failures_for_blocked(show: Show, tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    ai_png(show.pkg / "gen.png")
    plain_png(show.pkg / "clean.png")
    junit = tmp_path / "gate.xml"
    rc, _, _ = show.gate("--junit", junit, show.pkg, capsys=capsys)
    assert rc == 1
    suite = ET.parse(junit).getroot().find("testsuite")
    assert suite is not None and suite.get("tests") == "2" and suite.get("failures") == "1"
    cases = {c.get("name"): c for c in suite.iter("testcase")}
    assert cases["gen.png"].find("failure") is not None
    assert "temporary-material" in (cases["gen.png"].find("failure").text or "")
    assert cases["clean.png"].find("failure") is None


@pytest.mark.skipif(shutil.which("chromium") is None, reason="chromium not installed")
def test_html_report_shows_blocked_asset_in_headless_chromium(show: Show, tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    ai_png(show.pkg / "generated_matte.png")
    plain_png(show.pkg / "clean.png")
    html = tmp_path / "report.html"
    rc, _, _ = show.gate("--html", html, show.pkg, capsys=capsys)
    assert rc == 1
    text = html.read_text()
    assert "http://" not in text.replace("http://www.w3.org", "") and "src=\"data:image/jpeg;base64," in text
    profile = tmp_path / "chromium-profile"
    cmd = ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           f"--user-data-dir={profile}"]
    dom = subprocess.run([*cmd, "--dump-dom", html.as_uri()], capture_output=True, text=True, timeout=120,
                         check=True).stdout
    assert 'data-status="blocked"' in dom and "generated_matte.png" in dom
    assert "Delivery gate: BLOCKED" in dom
    shot = tmp_path / "report.png"
    subprocess.run([*cmd, "--window-size=1200,900", f"--screenshot={shot}", html.as_uri()],
                   capture_output=True, timeout=120, check=True)
    assert shot.stat().st_size > 10_000  # a rendered page, not a blank
    if os.environ.get("PROVENANCE_KEEP_SCREENSHOT"):
        shutil.copy(shot, os.environ["PROVENANCE_KEEP_SCREENSHOT"])
