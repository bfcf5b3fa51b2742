"""The commented examples in the `provenance init` template work when uncommented (issue 10 item
18: the `[[signatures]]` example once said `pattern =` where the code reads `value =`, so a
production copying it got a signature that never matched)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from PIL import Image

from provenance.cli import main


def _uncomment(text: str, header: str) -> str:
    """Uncomment the example block starting at `# {header}` (up to the first non-comment line)."""
    lines = text.splitlines()
    start = lines.index(f"# {header}")
    end = start
    while end == start or (end < len(lines) and lines[end].startswith("# ") and "=" in lines[end]):
        lines[end] = lines[end][2:]
        end += 1
    return "\n".join(lines) + "\n"


def test_the_signatures_example_in_the_template_flags_its_generator(
        tmp_path: Path, exiftool_available: None, capsys: pytest.CaptureFixture[str]) -> None:
    show = tmp_path / "show"
    show.mkdir()
    assert main(["init", str(show)]) == 0
    config = show / "provenance.toml"
    config.write_text(_uncomment(config.read_text(), "[[signatures]]"))
    jpeg = show / "final" / "matte.jpg"
    jpeg.parent.mkdir()
    Image.new("RGB", (32, 32), (1, 2, 3)).save(jpeg, "JPEG")
    subprocess.run(["exiftool", "-q", "-overwrite_original", "-XMP-xmp:CreatorTool=InHouseGen 2.1",
                    str(jpeg)], check=True)
    capsys.readouterr()
    assert main(["inspect", "--json", "--config", str(config), str(jpeg)]) == 0
    (verdict,) = json.loads(capsys.readouterr().out)["verdicts"]
    assert verdict["classification"] == "ai_generated", verdict
    assert verdict["generator"] == "InHouseGen"
