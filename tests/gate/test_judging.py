"""Every driver uses the one judging step: `inspect` and `gate` agree about the same bytes and
every output says when a verdict rests on memory; the gate takes no identity from the ledger's
mutable `locations` table; the disclosure report sees the portable approvals the gate sees."""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import pytest

from provenance.cli import main
from provenance.identify import sha256_file, stat_key
from provenance.ledger import Ledger
from provenance.model import Classification, Declarations, Scope, Zone
from provenance.pipeline import Inspector
from tests.gate.conftest import Show, ai_png, asset, plain_png


def test_inspect_and_gate_agree_on_remembered_bytes_and_every_output_says_why(
        show: Show, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    plate = plain_png(show.pkg / "plate.png")  # a camera plate: nothing AI in the file itself
    tagged = show.root / "working" / "gen" / "matte.png"  # the same bytes, tagged elsewhere
    tagged.parent.mkdir(parents=True)
    shutil.copy(plate, tagged)
    with Ledger.open(show.config.effective_ledger_url) as ledger:
        ledger.record_tag(str(tagged), None, sha256_file(tagged), Classification.AI_EDITED,
                          Declarations(tool="Runway Gen-4"))

    rc, report, _ = show.gate(show.pkg, capsys=capsys)
    assert rc == 1
    gated = asset(report, "plate.png")
    assert (gated["status"], gated["classification"]) == ("blocked", "ai_edited")
    said, declared = gated["memory"]
    assert said.startswith("the ledger remembers these bytes as ai_edited (tagged at ")
    assert str(tagged) in said
    assert declared == "the ledger remembers: declared for these bytes before: tool Runway Gen-4, risks none"
    assert f"from memory: {said}" in gated["reasons"]
    assert [m["statement"] for m in gated["files"][0]["memory"]] == [said, declared]

    html = tmp_path / "report.html"
    capsys.readouterr()
    assert main(["gate", "--config", str(show.config_file), "--html", str(html), str(show.pkg)]) == 1
    assert f"from memory: {said}" in capsys.readouterr().out  # the text output
    # The HTML is sent out: the same words, with the path relative to the show.
    assert said.replace(f"{show.root}/", "") in html.read_text() and str(show.root) not in html.read_text()

    assert main(["inspect", "--json", "--config", str(show.config_file), str(plate)]) == 0
    [inspected] = json.loads(capsys.readouterr().out)["verdicts"]
    assert inspected["classification"] == "ai_edited"
    assert inspected["memory"] == [{"source": "ledger", "statement": said},
                                   {"source": "ledger", "statement": declared}]


def test_inspect_without_a_ledger_neither_fails_nor_creates_one(
        show: Show, capsys: pytest.CaptureFixture[str]) -> None:
    plate = plain_png(show.pkg / "plate.png")
    db = show.root / ".provenance" / "ledger.db"
    db.unlink()  # the show's own, made for the gate: this show has none
    (show.root / "provenance.toml").write_text("[policy]\nunknown = \"pass\"\n")  # default ledger
    capsys.readouterr()
    assert main(["inspect", "--json", "--config", str(show.config_file), str(plate)]) == 0
    [inspected] = json.loads(capsys.readouterr().out)["verdicts"]
    assert inspected["memory"] == [] and not db.exists()


def test_gate_takes_identity_by_hashing_never_from_the_ledger_locations_table(
        show: Show, capsys: pytest.CaptureFixture[str]) -> None:
    gen = ai_png(show.pkg / "gen.png", 1)
    approved = ai_png(show.root / "elsewhere" / "ok.png", 7)
    show.add_approver("Legal", {Scope.FINAL_DELIVERABLE})
    portable = show.approve(approved, "Legal", {Scope.FINAL_DELIVERABLE}, ref="LEGAL-7")
    envelope = json.loads(portable.read_text())["approvals"][0]
    with Ledger.open(show.config.effective_ledger_url) as ledger, \
            Inspector(show.config.reader_settings()) as inspector:
        ledger.record_approval(envelope, sha256_file(approved), "Legal", ["final-deliverable"], "LEGAL-7",
                               None)
        # What an artist with write access to the ledger can do: point gen.png's exact stat
        # key at the approved file's hash (UPDATE locations SET sha256 = …).
        forged = dataclasses.replace(inspector.inspect(gen), sha256=sha256_file(approved))
        ledger.record_verdict(forged, stat_key(gen), Zone.FINAL)
        assert ledger.known_hash(stat_key(gen)) == sha256_file(approved)
    rc, report, _ = show.gate(show.pkg, capsys=capsys)
    assert rc == 1
    gated = asset(report, "gen.png")
    assert gated["status"] == "blocked" and gated["sha256"] == sha256_file(gen)
