"""A stale sidecar that claims AI is evidence of derivation, never silence: one re-rendered
frame of an approved AI EXR sequence is a possible derivative of what its sidecar described."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from provenance.cli import main
from provenance.model import Scope
from tests.gate.conftest import CONFIG, Show
from tests.memory.conftest import ffmpeg

pytestmark = pytest.mark.usefixtures("media_tools")


def _render(frame: Path, corpus_dir: Path, brightness: float) -> None:
    """One EXR frame (half float, ffmpeg's own encoder) from a corpus picture."""
    ffmpeg("-i", str(corpus_dir / "d02_Firefly_tabby_cat.jpg"), "-vf",
           f"scale=256:-2,eq=brightness={brightness},format=gbrpf32le", "-c:v", "exr", "-format", "half",
           str(frame))


def test_a_re_rendered_frame_of_an_approved_ai_exr_sequence_is_blocked_naming_its_sidecar(
        show: Show, corpus_dir: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    # The vendor tagged the frames with their own ledger: this show's memory has never seen
    # them, so only the sidecars (which travel with the frames) can say what they were.
    vendor = tmp_path / "vendor"
    (vendor / ".provenance").mkdir(parents=True)
    (vendor / "provenance.toml").write_text(CONFIG)
    made = [vendor / f"shot.{n}.exr" for n in range(1001, 1005)]
    for i, frame in enumerate(made):
        _render(frame, corpus_dir, 0.01 * i)
    assert main(["tag", "--config", str(vendor / "provenance.toml"), "--generated", "--tool", "Midjourney",
                 "--sidecar-only", *map(str, made)]) == 0
    frames = []
    for frame in made:
        frames.append(Path(shutil.move(frame, show.pkg / frame.name)))
        shutil.move(f"{frame}.xmp", show.pkg / f"{frame.name}.xmp")  # nothing embeds in EXR: sidecars
    show.add_approver("Legal", {Scope.FINAL_DELIVERABLE})
    for frame in frames:
        show.approve(frame, "Legal", {Scope.FINAL_DELIVERABLE})
    rc, report, _ = show.gate(show.pkg, capsys=capsys)
    assert rc == 0, report

    _render(frames[2], corpus_dir, 0.035)  # frame 1003 re-rendered: new bytes, the old sidecar
    rc, report, _ = show.gate(show.pkg, capsys=capsys)
    blocked = [a for a in report["assets"] if a["status"] == "blocked"]
    assert rc == 1 and blocked, report["assets"]
    text = " ".join(r for a in blocked for r in a["reasons"])
    assert "temporary-material" in text and "possibly derived from" in text
    assert "shot.1003.exr.xmp" in text and "content hash no longer matches" in text
