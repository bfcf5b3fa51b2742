"""A show a studio contact would hear about, built for real in tmp_path: corpus media and
generated frames in its final and working folders, scanned into a real ledger, one asset
approved with a real signed approval, one deleted after it was scanned."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from provenance.cli import main
from provenance.model import Scope
from tests.gate.conftest import Show, ai_png, plain_png, show

__all__ = ["Studio", "show", "studio"]

FRAMES = [*range(1001, 1005), *range(1006, 1011)]  # a hole at 1005


@dataclass
class Studio:
    show: Show
    final: Path
    matte: Path  # approved
    poster: Path  # pending / blocked

    def main(self, *args: str | Path) -> int:
        return main([args[0], "--config", str(self.show.config_file), *map(str, args[1:])])


@pytest.fixture
def studio(show: Show, corpus_dir: Path, capsys: pytest.CaptureFixture[str]) -> Studio:
    root = show.root
    show.config_file.write_text(show.config_file.read_text() + '[show]\ntitle = "The Long Night"\n')
    final = root / "final"
    final.mkdir()
    poster = final / "poster.png"
    shutil.copy(corpus_dir / "d10_sd-webui.png", poster)
    matte = final / "matte.jpg"
    shutil.copy(corpus_dir / "d02_Firefly_tabby_cat.jpg", matte)
    for n in FRAMES:
        ai_png(final / "plates" / f"shot010.{n}.png", n)
    plain_png(final / "clean.png")
    (root / "working").mkdir()
    shutil.copy(corpus_dir / "d11_comfyui-save-image-extended.png", root / "working" / "concept.png")
    gone = ai_png(root / "working" / "old_idea.png", 99)
    show.add_approver("Legal", {Scope.FINAL_DELIVERABLE})
    show.approve(matte, "Legal", {Scope.FINAL_DELIVERABLE}, ref="LEGAL-42")
    studio = Studio(show, final, matte, poster)
    assert studio.main("scan", root) == 0
    gone.unlink()
    assert studio.main("scan", root) == 0  # records the removal: the ledger keeps only its hash
    capsys.readouterr()
    return studio
