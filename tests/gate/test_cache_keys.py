"""Issue 10 item 7: the verdict cache is keyed on everything that decides the readers' answer,
so a verdict read by a reader that missed a marker is not reused once the reader is fixed."""

from __future__ import annotations

import shutil
import tomllib
from pathlib import Path

import pytest
from PIL import Image
from PIL.PngImagePlugin import PngInfo

from provenance.evidence import digest, signatures
from tests.gate.conftest import Show, asset

Capsys = pytest.CaptureFixture[str]
NEW_ROW = '''
[[signature]]
field = "PNG:Comment"
value = 'NovaGen v\\d'
signal = "ai_generated"
generator = "NovaGen"
'''


def _png_naming_a_new_generator(path: Path) -> Path:
    info = PngInfo()
    info.add_text("Comment", "rendered with NovaGen v2")
    Image.new("RGB", (32, 32), (1, 2, 3)).save(path, pnginfo=info)
    return path


def test_a_verdict_cached_under_one_signatures_toml_is_not_reused_after_it_changes(
        show: Show, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Capsys) -> None:
    _png_naming_a_new_generator(show.pkg / "matte.png")
    rc, report, _ = show.gate(show.pkg, capsys=capsys)
    assert rc == 0 and asset(report, "matte.png")["status"] == "clear"  # no row knows NovaGen yet
    # The release that fixes the reader ships a signatures.toml with a NovaGen row.
    fixed = tmp_path / "data"
    shutil.copytree(digest.DATA_DIR, fixed)
    with (fixed / "signatures.toml").open("a", encoding="utf-8") as fh:
        fh.write(NEW_ROW)
    rows = tomllib.loads((fixed / "signatures.toml").read_text(encoding="utf-8"))["signature"]
    monkeypatch.setattr(digest, "DATA_DIR", fixed)
    monkeypatch.setattr(signatures, "builtin",
                        lambda: tuple(signatures.parse_row(r, "signatures.toml") for r in rows))
    rc, report, _ = show.gate(show.pkg, capsys=capsys)
    entry = asset(report, "matte.png")
    assert rc == 1 and entry["classification"] == "ai_generated" and entry["status"] == "blocked"
