"""What the ledger records of a gate run is what the user got (issue 10 item 18): a report that
cannot be written makes the run exit 3, and the decision recorded says exit 3 with the reason,
never "clear / exit 0"; the report files appear only together with the recorded decision."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select

from provenance.cli import main
from provenance.ledger import Ledger
from provenance.ledger.schema import gate_decisions
from tests.gate.conftest import Show, plain_png


def _decisions(show: Show) -> list[dict]:
    with Ledger.open(show.config.effective_ledger_url) as ledger, ledger.engine.connect() as c:
        return [dict(r.record) for r in c.execute(select(gate_decisions).order_by(gate_decisions.c.id))]


@pytest.mark.parametrize("option", ["--html", "--junit", "--decision"])
def test_a_report_that_cannot_be_written_is_recorded_as_the_exit_3_the_user_got(
        show: Show, tmp_path: Path, capsys: pytest.CaptureFixture[str], option: str) -> None:
    plain_png(show.pkg / "clean.png")
    files = {"--html": tmp_path / "r.html", "--junit": tmp_path / "r.xml", "--decision": tmp_path / "d.json"}
    blocked = files[option] = tmp_path / "no-such-folder" / "report.out"  # its folder does not exist
    capsys.readouterr()
    rc = main(["gate", "--config", str(show.config_file), "--json",
               *[str(a) for opt, path in files.items() for a in (opt, path)], str(show.pkg)])
    out = capsys.readouterr()
    assert rc == 3, out.err
    assert str(blocked) in out.err and "could not write" in out.err
    (record,) = _decisions(show)
    assert record["exit_code"] == 3 and record["result"] == "undecided"
    assert str(blocked) in record["fatal"]
    report = json.loads(out.out)
    assert report["exit_code"] == 3 and report["result"] == "undecided"
    # All reports or none: the others were not left behind saying "clear".
    assert not [p for p in files.values() if p.exists()]


def test_reports_and_the_recorded_decision_agree_when_all_is_well(
        show: Show, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    plain_png(show.pkg / "clean.png")
    html, junit, decision = tmp_path / "r.html", tmp_path / "r.xml", tmp_path / "decision.json"
    capsys.readouterr()
    rc = main(["gate", "--config", str(show.config_file), "--json", "--html", str(html),
               "--junit", str(junit), "--decision", str(decision), str(show.pkg)])
    report = json.loads(capsys.readouterr().out)
    assert rc == 0 and html.is_file() and junit.is_file()
    (record,) = _decisions(show)
    assert record["exit_code"] == 0 and record["result"] == "clear"
    assert report["decision_id"] is not None
    written = json.loads(decision.read_text())
    assert written["decision"]["inputs_digest"] == record["inputs_digest"] == report["inputs_digest"]
    assert [f["path"] for f in written["files"]] == ["clean.png"]


def test_dry_run_records_nothing_and_still_writes_reports(
        show: Show, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    plain_png(show.pkg / "clean.png")
    html = tmp_path / "r.html"
    rc = main(["gate", "--config", str(show.config_file), "--dry-run", "--html", str(html), str(show.pkg)])
    assert rc == 0
    assert html.is_file() and "dry run" in html.read_text()
    assert _decisions(show) == []
