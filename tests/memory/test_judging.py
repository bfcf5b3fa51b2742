"""AI by derivation, end to end: `scan` remembers an AI file's content, the gate blocks a
re-saved copy that lost every tag, names the original and the match, and a warm gate on the
unchanged package decodes nothing."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from PIL import Image

import provenance.memory.recall as recall
from provenance.cli import main
from provenance.identify import sha256_file
from provenance.ledger import Ledger
from provenance.memory import store
from tests.gate.conftest import Show, asset

pytestmark = pytest.mark.usefixtures("media_tools")


def _scan_working(show: Show, corpus_dir: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    original = show.root / "working" / "gen" / "sky_v003.png"
    original.parent.mkdir(parents=True)
    shutil.copyfile(corpus_dir / "d13_invokeai.png", original)  # InvokeAI metadata: AI by its own tags
    assert main(["scan", "--config", str(show.config_file), str(original.parent)]) in (0, 1)
    capsys.readouterr()
    return original


def test_a_stripped_cropped_copy_is_blocked_as_derived_and_names_the_original(
        show: Show, corpus_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    original = _scan_working(show, corpus_dir, capsys)
    img = Image.open(original).convert("RGB")
    w, h = img.size
    img.crop((int(w * 0.04), 0, w, h - int(h * 0.03))).resize((w // 2, h // 2)).save(
        show.pkg / "sky_final.jpg", quality=80)  # Pillow writes no metadata: every tag is gone
    Image.open(corpus_dir / "d23_crater-lake.jpeg").save(show.pkg / "camera.jpg", quality=85)

    rc, report, _ = show.gate(show.pkg, capsys=capsys)
    assert rc == 1
    derived = asset(report, "sky_final.jpg")
    assert (derived["status"], derived["classification"]) == ("blocked", "ai_generated")
    text = " ".join(derived["reasons"])
    assert "temporary-material" in text
    assert f"derived from {original}" in text and sha256_file(original) in text
    assert "perceptual distance" in text and "of 256" in text
    assert "An approval of the original does not cover these bytes" in text
    assert asset(report, "camera.jpg")["status"] == "clear"


def test_a_warm_gate_on_an_unchanged_package_decodes_nothing(
        show: Show, corpus_dir: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    original = _scan_working(show, corpus_dir, capsys)
    Image.open(original).convert("RGB").save(show.pkg / "copy.jpg", quality=90)
    assert show.gate(show.pkg, capsys=capsys)[0] == 1
    with Ledger.open(show.config.effective_ledger_url) as ledger:
        assert not store.missing(ledger, [sha256_file(show.pkg / "copy.jpg"), sha256_file(original)])

    def no_decoding(*_: object, **__: object) -> None:
        raise AssertionError("a warm gate decoded a file")

    monkeypatch.setattr(recall, "fingerprint", no_decoding)
    monkeypatch.setattr(recall, "decode", no_decoding)
    rc, report, _ = show.gate(show.pkg, capsys=capsys)
    assert rc == 1 and asset(report, "copy.jpg")["status"] == "blocked"


def test_without_the_original_in_memory_the_copy_is_not_blocked(
        show: Show, corpus_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    Image.open(corpus_dir / "d13_invokeai.png").convert("RGB").save(show.pkg / "copy.jpg", quality=90)
    rc, report, _ = show.gate(show.pkg, capsys=capsys)
    assert rc == 0 and asset(report, "copy.jpg")["status"] == "clear"


def test_the_daemons_reconcile_flags_a_derivative_in_final(
        show: Show, corpus_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`scan` is the reconcile the daemon runs at start-up and periodically (same judge)."""
    _scan_working(show, corpus_dir, capsys)
    final = show.root / "ep101" / "final"
    final.mkdir(parents=True)
    Image.open(corpus_dir / "d13_invokeai.png").convert("RGB").resize((640, 640)).save(
        final / "hero.jpg", quality=85)
    main(["scan", "--config", str(show.config_file), str(final)])
    capsys.readouterr()
    with Ledger.open(show.config.effective_ledger_url) as ledger:
        found = [f for f in ledger.open_findings() if f.path.endswith("hero.jpg")]
    [finding] = [f for f in found if f.rule == "temporary-material"]
    assert finding.classification == "ai_generated" and finding.blocking


def test_an_edited_original_fingerprint_makes_the_gate_undecided_not_clear(
        show: Show, corpus_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Whoever can write the ledger's fingerprint rows must not make an AI derivative clear:
    the row is authenticated by its chained event, so an edit is refused (exit 3) and named
    by `ledger verify` (exit 1)."""
    from sqlalchemy import text

    original = _scan_working(show, corpus_dir, capsys)
    Image.open(original).convert("RGB").save(show.pkg / "copy.jpg", quality=90)
    assert show.gate(show.pkg, capsys=capsys)[0] == 1
    with Ledger.open(show.config.effective_ledger_url) as ledger, ledger.engine.begin() as conn:
        conn.execute(text("UPDATE fingerprints SET data = :d WHERE sha256 = :s"),
                     {"d": '{"frames": [[0.0, ["' + "0" * 64 + '"]]], "audio": [], "notes": []}',
                      "s": sha256_file(original)})
    rc, report, _ = show.gate(show.pkg, capsys=capsys)
    assert rc == 3 and asset(report, "copy.jpg")["status"] == "undecided"
    assert main(["ledger", "verify", "--config", str(show.config_file)]) == 1
    said = capsys.readouterr()
    assert f"fingerprints {sha256_file(original)}" in said.out + said.err
