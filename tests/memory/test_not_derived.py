"""Signed not-derived-from records: an approver clears one false match, for those bytes only,
and only with a key the signed approvers registry lists."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from PIL import Image

from provenance.approvals import Approver, ApproverRegistry, write_portable
from provenance.approvals.keys import load_private, new_keypair
from provenance.approvals.not_derived import sign_not_derived
from provenance.cli import main
from provenance.identify import sha256_file
from provenance.model import Scope
from tests.gate.conftest import Show, asset

pytestmark = pytest.mark.usefixtures("media_tools")


def _setup(show: Show, corpus_dir: Path, capsys: pytest.CaptureFixture[str]) -> tuple[Path, Path, Path]:
    """An AI original scanned in working/, two tag-less derivatives of it in the package."""
    original = show.root / "working" / "gen" / "sky_v003.png"
    original.parent.mkdir(parents=True)
    shutil.copyfile(corpus_dir / "d13_invokeai.png", original)  # AI by its own InvokeAI metadata
    assert main(["scan", "--config", str(show.config_file), str(original.parent)]) in (0, 1)
    img = Image.open(original).convert("RGB")
    img.save(show.pkg / "plate_a.jpg", quality=85)
    img.resize((img.width // 2, img.height // 2)).save(show.pkg / "plate_b.jpg", quality=80)
    show.add_approver("Legal", {Scope.FINAL_DELIVERABLE})
    capsys.readouterr()
    return original, show.pkg / "plate_a.jpg", show.pkg / "plate_b.jpg"


def _dismiss(show: Show, file: Path, original: Path | str, capsys: pytest.CaptureFixture[str]) -> int:
    rc = main(["memory", "dismiss", str(file), "--original", str(original), "--ref", "REVIEW-7",
               "--key", str(show.keys["Legal"]), "--config", str(show.config_file)])
    capsys.readouterr()
    return rc


def test_a_dismissed_match_clears_that_derivative_only(
        show: Show, corpus_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    original, a, _ = _setup(show, corpus_dir, capsys)
    rc, report, _ = show.gate(show.pkg, capsys=capsys)
    assert rc == 1 and asset(report, "plate_a.jpg")["status"] == "blocked"

    assert _dismiss(show, a, original, capsys) == 0
    assert (show.pkg / "plate_a.jpg.approval.json").is_file()
    rc, report, _ = show.gate(show.pkg, capsys=capsys)
    cleared = asset(report, "plate_a.jpg")
    assert cleared["status"] == "clear", cleared
    assert any("not derived from sky_v003.png" in m and "Legal (REVIEW-7)" in m for m in cleared["memory"])
    # The other derivative of the same original (other bytes) still blocks.
    assert rc == 1 and asset(report, "plate_b.jpg")["status"] == "blocked"

    # Bound to bytes: the dismissed file re-saved is matched again.
    Image.open(a).save(a, quality=70)
    rc, report, _ = show.gate(show.pkg, capsys=capsys)
    assert asset(report, "plate_a.jpg")["status"] == "blocked"


def test_the_record_lives_in_the_ledger_too_and_names_the_original_by_sha256(
        show: Show, corpus_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    original, a, _ = _setup(show, corpus_dir, capsys)
    assert _dismiss(show, a, sha256_file(original), capsys) == 0
    (show.pkg / "plate_a.jpg.approval.json").unlink()  # only the ledger's copy is left
    _, report, _ = show.gate(show.pkg, capsys=capsys)
    assert asset(report, "plate_a.jpg")["status"] == "clear"


def test_a_record_signed_by_a_key_the_registry_does_not_list_never_clears(
        show: Show, corpus_dir: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    original, a, _ = _setup(show, corpus_dir, capsys)
    rogue = tmp_path / "rogue.key"
    new_keypair(rogue)
    key = load_private(rogue)
    # The rogue signs against a registry of their own making (never signed by the admin).
    own = ApproverRegistry(tmp_path / "mine.toml", (Approver("Legal", "", key.public_key(),
                                                             frozenset({Scope.FINAL_DELIVERABLE})),))
    envelope, _ = sign_not_derived(key, own, subject_name=a.name, sha256=sha256_file(a),
                                   original_sha256=sha256_file(original), original_name=original.name,
                                   reference="REVIEW-7")
    write_portable(a, envelope, sha256_file(a), show.config)
    rc, report, _ = show.gate(show.pkg, capsys=capsys)
    blocked = asset(report, "plate_a.jpg")
    assert rc == 1 and blocked["status"] == "blocked"
    assert any("does not count" in m and "not signed by any known approver" in m for m in blocked["memory"])


def test_an_approval_of_the_original_does_not_carry_over_to_a_derivative(
        show: Show, corpus_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    original, _, _ = _setup(show, corpus_dir, capsys)
    show.approve(original, "Legal", {Scope.FINAL_DELIVERABLE})
    rc, report, _ = show.gate(show.pkg, capsys=capsys)
    blocked = asset(report, "plate_a.jpg")
    assert rc == 1 and blocked["status"] == "blocked"
    assert "An approval of the original does not cover these bytes" in " ".join(blocked["reasons"])


def test_a_content_match_does_not_become_hash_memory_so_a_dismissal_holds_after_a_scan(
        show: Show, corpus_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The daemon's reconcile records the derivative's verdict; were the content match kept
    as memory of its hash, the ledger would go on blocking it after it was dismissed."""
    original, _, _ = _setup(show, corpus_dir, capsys)
    final = show.root / "ep101" / "final"
    final.mkdir(parents=True)
    hero = final / "hero.jpg"
    Image.open(original).convert("RGB").save(hero, quality=88)
    main(["scan", "--config", str(show.config_file), str(final)])
    assert _dismiss(show, hero, original, capsys) == 0
    rc, report, _ = show.gate(final, capsys=capsys)
    assert rc == 0 and asset(report, "hero.jpg")["status"] == "clear"
