"""The gate CLI end to end: exit codes, summary, sequences, symlinks, renamed files, records, reports."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from provenance.gate.cache import cache_file
from provenance.identify import sha256_file
from provenance.ledger import Ledger
from provenance.model import Classification, Evidence, Scope, Signal, Verdict, Zone
from tests.gate.conftest import REPO, Show, ai_jpeg, ai_png, asset, cache_blob, plain_png


def test_clear_package_exits_0_and_says_so(show: Show, capsys: pytest.CaptureFixture[str]) -> None:
    plain_png(show.pkg / "a.png", 1)
    plain_png(show.pkg / "b.png", 2)
    rc, report, err = show.gate(show.pkg, capsys=capsys)
    assert rc == 0 and report["result"] == "clear"
    assert "2 files: 2 clear, 0 blocked" in err


def test_ai_asset_blocks_with_reason_and_what_clears_it(show: Show,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    plain_png(show.pkg / "clean.png")
    ai_jpeg(show.pkg / "gen.jpg")
    rc, report, err = show.gate(show.pkg, capsys=capsys)
    assert rc == 1 and report["result"] == "blocked"
    gen = asset(report, "gen.jpg")
    assert gen["status"] == "blocked" and gen["classification"] == "ai_generated"
    assert any("temporary-material" in r and "'final-deliverable'" in r for r in gen["reasons"])
    assert "2 files: 1 clear, 1 blocked" in err and "gen.jpg" in err


def test_valid_approval_exits_0_and_reports_approved(show: Show, capsys: pytest.CaptureFixture[str]) -> None:
    gen = ai_png(show.pkg / "gen.png")
    plain_png(show.pkg / "clean.png")
    show.add_approver("Legal", {Scope.FINAL_DELIVERABLE})
    show.approve(gen, "Legal", {Scope.FINAL_DELIVERABLE}, ref="LEGAL-42")
    rc, report, err = show.gate(show.pkg, capsys=capsys)
    assert rc == 0, err
    entry = asset(report, "gen.png")
    assert entry["status"] == "approved"
    assert entry["approvals"][0]["approver"] == "Legal" and entry["approvals"][0]["reference"] == "LEGAL-42"
    assert "2 files: 1 clear, 0 blocked, 1 approved" in err


def test_ai_file_renamed_to_another_extension_is_still_blocked(show: Show,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    ai_png(show.pkg / "tmp.png").rename(show.pkg / "notes.txt")
    ai_jpeg(show.pkg / "x.jpg").rename(show.pkg / "shot.exr.xmp")  # pretends to be a sidecar
    shutil.copy(REPO / "sample_assets/show/working/plates/plate.exr", show.pkg / "shot.exr")
    rc, report, _ = show.gate(show.pkg, capsys=capsys)
    assert rc == 1
    assert asset(report, "notes.txt")["status"] == "blocked" and asset(report, "notes.txt")["format"] == "png"
    reasons = asset(report, "notes.txt")["reasons"]
    assert any("content is png although the name ends in '.txt'" in r for r in reasons)
    assert asset(report, "shot.exr.xmp")["status"] == "blocked"


def test_symlink_pointing_outside_is_judged_by_target_and_reported(
        show: Show, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    outside = ai_png(tmp_path / "elsewhere" / "gen.png")
    plain_png(show.pkg / "clean.png")
    (show.pkg / "innocent.png").symlink_to(outside)
    rc, report, err = show.gate(show.pkg, capsys=capsys)
    assert rc == 1
    link = asset(report, "innocent.png")
    assert link["status"] == "blocked"
    assert any(str(outside) in r and "outside the package" in r for r in link["reasons"])
    assert "outside the package" in err


def test_image_sequence_is_one_asset_with_frame_count_and_blocks_on_one_frame(
        show: Show, capsys: pytest.CaptureFixture[str]) -> None:
    plates = show.pkg / "plates"
    for n in range(1, 13):
        plain_png(plates / f"plate.{n:04d}.png", n)
    ai_png(plates / "plate.0007.png", 7)  # one generated frame in the middle
    rc, report, err = show.gate(show.pkg, capsys=capsys)
    assert rc == 1
    assert [a["name"] for a in report["assets"]] == ["plates/plate.1-12#.png"]
    seq = report["assets"][0]
    assert seq["kind"] == "sequence" and seq["frames"]["count"] == 12 and seq["frames"]["missing"] == []
    assert seq["status"] == "blocked"
    assert seq["frames"]["range"] == "1-12" and seq["frames"]["pattern"] == "plates/plate.%04d.png"
    assert any(r.startswith("1 of 12 frames (7): ") for r in seq["reasons"])
    assert "12 files in 1 asset: 0 clear, 1 blocked" in err


def test_decision_record_appended_unless_dry_run(show: Show, capsys: pytest.CaptureFixture[str]) -> None:
    ai_png(show.pkg / "gen.png")
    rc, report, _ = show.gate(show.pkg, capsys=capsys)
    assert rc == 1 and report["decision_id"] is not None
    rc, dry, _ = show.gate("--dry-run", show.pkg, capsys=capsys)
    assert rc == 1 and dry["decision_id"] is None
    with Ledger.open(show.config.effective_ledger_url) as ledger:
        rows = ledger.engine.connect().exec_driver_sql("SELECT result, record FROM gate_decisions").fetchall()
    assert len(rows) == 1 and rows[0][0] == "blocked"
    import json

    record = json.loads(rows[0][1]) if isinstance(rows[0][1], str) else rows[0][1]
    assert record["inputs_digest"] == report["inputs_digest"] and len(record["inputs_digest"]) == 64
    assert record["policy_digest"] == report["policy_digest"]
    assert record["counts"]["blocked"] == 1 and record["blocked"] == ["gen.png"]


def test_inputs_digest_changes_with_one_byte(show: Show, capsys: pytest.CaptureFixture[str]) -> None:
    f = plain_png(show.pkg / "a.png")
    _, first, _ = show.gate("--dry-run", show.pkg, capsys=capsys)
    with open(f, "ab") as fh:
        fh.write(b"\0")
    _, second, _ = show.gate("--dry-run", show.pkg, capsys=capsys)
    assert first["inputs_digest"] != second["inputs_digest"]
    assert first["policy_digest"] == second["policy_digest"]


def test_json_schema_fields(show: Show, capsys: pytest.CaptureFixture[str]) -> None:
    ai_png(show.pkg / "gen.png")
    _, report, _ = show.gate(show.pkg, capsys=capsys)
    assert report["schema"] == "provenance.gate/v1"
    for key in ("result", "exit_code", "summary", "decided_at", "inputs_digest", "policy_digest", "paths",
                "files", "counts", "assets"):
        assert key in report, key
    a = report["assets"][0]
    for key in ("name", "kind", "status", "classification", "format", "sha256", "frames", "reasons",
                "findings", "approvals", "rejections", "notes", "files"):
        assert key in a, key
    assert a["findings"][0]["principle"] and a["findings"][0]["clears_with"] == ["final-deliverable"]


def test_verdict_cache_is_used_but_never_hides_changed_bytes(show: Show,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    f = plain_png(show.pkg / "shot.png")
    rc, _, _ = show.gate(show.pkg, capsys=capsys)
    assert rc == 0
    assert len(cache_blob(show.root)[2]) == 1
    # Same name, same size class, mtime put back: only ctime and the bytes say it changed.
    st = f.stat()
    ai_png(show.root / "gen.png").replace(f)
    os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns))
    rc, report, _ = show.gate(show.pkg, capsys=capsys)
    assert rc == 1 and asset(report, "shot.png")["classification"] == "ai_generated"


def test_verify_hashes_bypasses_the_cache(show: Show, capsys: pytest.CaptureFixture[str]) -> None:
    ai_png(show.pkg / "gen.png")
    rc, _, _ = show.gate("--verify-hashes", show.pkg, capsys=capsys)
    assert rc == 1
    assert not cache_file(show.root).exists()


def test_ledger_memory_catches_a_copy_that_lost_its_tag(show: Show,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    plate = show.pkg / "plate_v002.exr"  # a real EXR: nothing can embed a tag in it
    shutil.copy(REPO / "sample_assets/show/working/plates/plate.exr", plate)
    plain_png(show.pkg / "clean.png")
    # Elsewhere on the show, these exact bytes were seen with an AI sidecar (recorded by the watcher).
    seen = Verdict(path="/show/work/plate_v002.exr", sha256=sha256_file(plate), format="exr", size=10,
                   classification=Classification.AI_GENERATED,
                   evidence=(Evidence("xmp-sidecar", "DigitalSourceType", "trainedAlgorithmicMedia",
                                      Signal.AI_GENERATED),))
    with Ledger.open(show.config.effective_ledger_url) as ledger:
        ledger.record_verdict(seen, None, Zone.WORKING)
    rc, report, _ = show.gate(show.pkg, capsys=capsys)
    assert rc == 1
    entry = asset(report, "plate_v002.exr")
    assert entry["status"] == "blocked" and entry["classification"] == "ai_generated"
    assert asset(report, "clean.png")["status"] == "clear"


def test_a_copy_that_lost_its_sidecar_keeps_its_declared_risks(show: Show,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    """`provenance tag` on the show records the tag (with its risks) in the ledger; the bytes
    copied into a package without their sidecar still need the talent-likeness consent."""
    from provenance.cli import main

    work = show.root / "working"
    work.mkdir()
    plate = work / "digi_double.exr"
    shutil.copy(REPO / "sample_assets/show/working/plates/plate.exr", plate)
    rc = main(["tag", "--config", str(show.config_file), "--generated", "--tool", "Runway",
               "--talent-likeness", "--sidecar-only", str(plate)])
    assert rc == 0 and (work / "digi_double.exr.xmp").is_file()
    copy = show.pkg / "digi_double_v002.exr"
    shutil.copy(plate, copy)  # the sidecar stays behind

    rc, report, _ = show.gate(show.pkg, capsys=capsys)
    entry = asset(report, "digi_double_v002.exr")
    assert rc == 1 and entry["classification"] == "ai_generated"
    assert {f["rule"] for f in entry["findings"]} >= {"temporary-material", "talent-likeness"}
    assert any("talent-likeness" in r for r in entry["reasons"])

    show.add_approver("Legal", {Scope.FINAL_DELIVERABLE, Scope.TALENT_LIKENESS})
    show.approve(copy, "Legal", {Scope.FINAL_DELIVERABLE}, ref="LEGAL-7")
    rc, report, _ = show.gate(show.pkg, capsys=capsys)
    entry = asset(report, "digi_double_v002.exr")
    rules = {f["rule"] for f in entry["findings"]}
    assert rc == 1 and "talent-likeness" in rules and "temporary-material" not in rules

    show.approve(copy, "Legal", {Scope.FINAL_DELIVERABLE, Scope.TALENT_LIKENESS}, ref="CONSENT-3")
    rc, report, err = show.gate(show.pkg, capsys=capsys)
    assert rc == 0, err
    assert asset(report, "digi_double_v002.exr")["status"] == "approved"


def test_tagging_goes_on_when_the_ledger_cannot_be_opened(show: Show) -> None:
    """An artist's workstation may not reach the show's ledger (a SQLite ledger refused on a
    network mount, a PostgreSQL server down): the tag is still written, with a warning."""
    from click.testing import CliRunner

    from provenance.cli import cli

    cfg = show.root / "unreachable.toml"
    cfg.write_text('[ledger]\nurl = "postgresql+psycopg://nobody@127.0.0.1:9/none"\n')
    png = plain_png(show.root / "work" / "gen.png")
    run = CliRunner().invoke(cli, ["tag", "--config", str(cfg), "--generated", "--tool", "Runway",
                                   "--no-c2pa", str(png)])
    assert run.exit_code == 0, run.output
    assert "tags will not be recorded in the ledger" in run.output
    assert "written" in run.output


def test_a_two_person_rule_holds_the_package_until_the_second_approver_signs(
        show: Show, capsys: pytest.CaptureFixture[str]) -> None:
    from provenance.cli import main

    two = '[approvals]\nrequired = { "talent-likeness" = 2 }\n'
    show.config_file.write_text(show.config_file.read_text().replace("[approvals]\n", two))
    double = plain_png(show.pkg / "double.png", 5)
    assert main(["tag", "--config", str(show.config_file), "--generated", "--tool", "Runway",
                 "--talent-likeness", "--no-c2pa", str(double)]) == 0
    show.add_approver("Legal", {Scope.FINAL_DELIVERABLE, Scope.TALENT_LIKENESS})
    show.add_approver("Producer", {Scope.TALENT_LIKENESS})
    show.approve(double, "Legal", {Scope.FINAL_DELIVERABLE, Scope.TALENT_LIKENESS}, ref="LEGAL-1")
    rc, report, _ = show.gate(show.pkg, capsys=capsys)
    entry = asset(report, "double.png")
    assert rc == 1 and entry["status"] == "blocked"
    assert any("needs approvals by 2 different approvers; 1 so far: Legal" in r for r in entry["reasons"])

    show.approve(double, "Producer", {Scope.TALENT_LIKENESS}, ref="CONSENT-9")
    rc, report, err = show.gate(show.pkg, capsys=capsys)
    entry = asset(report, "double.png")
    assert rc == 0, err
    assert entry["status"] == "approved"
    assert sorted(a["approver"] for a in entry["approvals"]) == ["Legal", "Producer"]
