"""A tag never lowers what the file's own evidence says (issue 14, "Undoing a mistake")."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

from provenance.errors import EXIT_BLOCKED, EXIT_OK
from provenance.identify import sha256_file
from tests.tagging.test_cli import run, show  # noqa: F401  (the show fixture)


def test_edited_on_a1111_png_is_refused_and_nothing_is_written(
        show: Path, corpus_dir: Path, exiftool_available: None) -> None:  # noqa: F811
    png = show / "sd-webui.png"
    shutil.copyfile(corpus_dir / "d10_sd-webui.png", png)
    before = sha256_file(png)
    proc = run("tag", "--edited", "--tool", "Nuke", "--no-c2pa", str(png), cwd=show)
    assert proc.returncode == EXIT_BLOCKED, proc.stdout + proc.stderr
    line = proc.stdout.strip()
    assert line.startswith("refused") and "sd-webui.png" in line
    assert "ai_generated" in line and "--generated" in line and "parameters" in line.lower()
    assert sha256_file(png) == before
    assert not list(show.glob("sd-webui.png.xmp"))
    # The same tool declared at the file's own class is fine.
    proc = run("tag", "--generated", "--tool", "Stable Diffusion", "--no-c2pa", "--json", str(png),
               cwd=show)
    assert proc.returncode == EXIT_OK, proc.stdout + proc.stderr
    assert json.loads(proc.stdout)["results"][0]["outcome"] == "written"
    proc = run("inspect", "--json", str(png), cwd=show)
    assert json.loads(proc.stdout)["verdicts"][0]["classification"] == "ai_generated"


def test_our_own_generated_tag_is_not_lowered_either(
        show: Path, media: Callable[..., Path]) -> None:  # noqa: F811
    path = media("jpeg")
    assert run("tag", "--generated", "--tool", "X", "--no-c2pa", str(path), cwd=show).returncode == 0
    tagged = sha256_file(path)
    proc = run("tag", "--edited", "--tool", "X", "--no-c2pa", "--json", str(path), cwd=show)
    assert proc.returncode == EXIT_BLOCKED
    row = json.loads(proc.stdout)["results"][0]
    assert row["outcome"] == "refused" and "untag" in row["reason"]
    assert sha256_file(path) == tagged
    # Raising is always allowed: edited → generated.
    other = media("png")
    assert run("tag", "--edited", "--tool", "X", "--no-c2pa", str(other), cwd=show).returncode == 0
    assert run("tag", "--generated", "--tool", "X", "--no-c2pa", str(other), cwd=show).returncode == 0
