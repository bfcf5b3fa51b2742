"""A warm gate (verdicts from its cache) decides exactly as the cold gate that read the files:
the cache stores `Verdict.to_dict()` and reads back `Verdict.from_dict`, so no field a rule
depends on (here: a declared risk) can be dropped on the way."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from provenance import pipeline
from provenance.cli import main
from provenance.model import Scope
from tests.gate.conftest import Show, ai_png, asset, plain_png

EXIFTOOL_CONFIG = Path(__file__).resolve().parents[2] / "src/provenance/data/exiftool.config"


def _decisions(report: dict[str, Any]) -> list[tuple[Any, ...]]:
    return [(a["name"], a["status"], a["classification"], sorted(f["rule"] for f in a["findings"]),
             a["reasons"], [x["reference"] for x in a["approvals"]], a["files"][0]["declarations"])
            for a in report["assets"]]


def test_gating_twice_cold_then_cached_gives_the_same_decisions(
        show: Show, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    face = ai_png(show.pkg / "face.png", 5)
    # The risk is declared in the file itself (not only in the ledger's memory), so only the
    # cached verdict can carry it on the warm run.
    subprocess.run(["exiftool", "-config", str(EXIFTOOL_CONFIG), "-q", "-overwrite_original",
                    "-XMP-provenance:Tool=FaceGen", "-XMP-provenance:Risks=talent-likeness", str(face)],
                   check=True)
    plain_png(show.pkg / "clean.png", 2)
    show.add_approver("Legal", {Scope.FINAL_DELIVERABLE, Scope.TALENT_LIKENESS})
    show.approve(face, "Legal", {Scope.FINAL_DELIVERABLE}, ref="LEGAL-1")  # consent still missing

    rc_cold, cold, _ = show.gate(show.pkg, capsys=capsys)
    assert rc_cold == 1
    face_cold = asset(cold, "face.png")
    assert face_cold["status"] == "blocked"
    assert "talent-likeness" in {f["rule"] for f in face_cold["findings"]}

    def no_reading(self: pipeline.Inspector, paths: Any, known_hashes: Any = None) -> Any:
        raise AssertionError(f"the warm gate read {list(paths)} instead of using its cache")

    monkeypatch.setattr(pipeline.Inspector, "inspect_many", no_reading)
    rc_warm, warm, _ = show.gate(show.pkg, capsys=capsys)
    assert rc_warm == rc_cold
    assert _decisions(warm) == _decisions(cold)


def test_the_readers_config_key_narrows_inspect_but_never_the_gate(
        show: Show, capsys: pytest.CaptureFixture[str]) -> None:
    gen = ai_png(show.pkg / "gen.png", 3)  # an A1111 signature: only the metadata reader sees it
    config = show.config_file.read_text()
    show.config_file.write_text(config + '[inspect]\nreaders = ["c2pa", "sidecar"]\n')
    capsys.readouterr()
    assert main(["inspect", "--config", str(show.config_file), "--json", str(gen)]) == 0
    assert json.loads(capsys.readouterr().out)["verdicts"][0]["classification"] == "unknown"  # as configured
    rc, report, _ = show.gate(show.pkg, capsys=capsys)
    assert rc == 1 and asset(report, "gen.png")["classification"] == "ai_generated"  # every built-in


def test_an_unknown_reader_name_is_a_config_error_naming_the_file(
        show: Show, capsys: pytest.CaptureFixture[str]) -> None:
    show.config_file.write_text(show.config_file.read_text() + '[inspect]\nreaders = ["c2pa", "metdata"]\n')
    rc, report, err = show.gate(show.pkg, capsys=capsys)
    assert rc == 3 and report["result"] == "undecided"
    assert "unknown reader(s) 'metdata'" in err and str(show.config_file) in err
