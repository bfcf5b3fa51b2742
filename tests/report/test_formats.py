"""Gate report formats as a plug-in table (`report/formats.py`, entry-point group
`provenance.reports`): `gate --report FORMAT=FILE` writes built-ins and plug-ins alike."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from provenance.cli import main
from tests.gate.conftest import Show, ai_png

PLUGIN = '''
def summary(result):
    return ("\\n".join(f"{a.status} {a.name}" for a in result.assets) + "\\n").encode()
'''


def test_builtin_and_plugin_formats_are_written_by_report_option(
        show: Show, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    site = tmp_path / "site"
    (site / "studio_reports-1.0.dist-info").mkdir(parents=True)
    (site / "studio_reports.py").write_text(PLUGIN)
    (site / "studio_reports-1.0.dist-info" / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: studio-reports\nVersion: 1.0\n")
    (site / "studio_reports-1.0.dist-info" / "entry_points.txt").write_text(
        "[provenance.reports]\nsummary = studio_reports:summary\n")
    monkeypatch.syspath_prepend(str(site))
    ai_png(show.pkg / "gen.png")
    out_json, out_summary = tmp_path / "r.json", tmp_path / "r.txt"
    rc = main(["gate", "--config", str(show.config_file), "--report", f"json={out_json}",
               "--report", f"summary={out_summary}", str(show.pkg)])
    assert rc == 1
    assert json.loads(out_json.read_text())["assets"][0]["status"] == "blocked"
    assert out_summary.read_text() == "blocked gen.png\n"


def test_an_unknown_report_format_is_a_usage_error(show: Show, tmp_path: Path) -> None:
    rc = main(["gate", "--config", str(show.config_file), "--report", f"sarif={tmp_path / 'x'}",
               str(show.pkg)])
    assert rc == 2 and not (tmp_path / "x").exists()
