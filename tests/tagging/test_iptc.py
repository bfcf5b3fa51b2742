"""`tag` writes IPTC Photo Metadata 2025.1's own AI properties, and reading uses the same names."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

from provenance.errors import EXIT_OK
from tests.tagging.test_cli import run, show  # noqa: F401  (the show fixture)

IPTC_EXT = "http://iptc.org/std/Iptc4xmpExt/2008-02-29/"


def raw_xmp(path: Path) -> str:
    return subprocess.run(["exiftool", "-b", "-XMP", str(path)], capture_output=True, text=True,
                          check=True).stdout


def test_tool_version_and_prompt_go_to_iptc_properties(
        show: Path, media: Callable[..., Path]) -> None:  # noqa: F811
    path = media("jpeg")
    # A file tagged before IPTC 2025.1 was written: our own Tool/ToolVersion/Classification.
    subprocess.run(["exiftool", "-config", str(Path(__file__).parents[2] / "src/provenance/data/"
                                                 "exiftool.config"), "-overwrite_original",
                    "-XMP-provenance:Tool=Old", "-XMP-provenance:ToolVersion=1",
                    "-XMP-provenance:Classification=ai_edited", str(path)],
                   check=True, capture_output=True)
    proc = run("tag", "--generated", "--tool", "Adobe Firefly", "--tool-version", "4.10",
               "--prompt", "a tabby cat on a sofa", "--prompt-writer", "J. Artist",
               "--purpose", "set dressing", "--no-c2pa", str(path), cwd=show)
    assert proc.returncode == EXIT_OK, proc.stdout + proc.stderr
    xmp = raw_xmp(path)
    assert IPTC_EXT in xmp  # the IPTC Extension schema's own namespace, not ours
    for prop, value in (("AISystemUsed", "Adobe Firefly"), ("AISystemVersionUsed", "4.10"),
                        ("AIPromptInformation", "a tabby cat on a sofa"),
                        ("AIPromptWriterName", "J. Artist")):
        assert f"<Iptc4xmpExt:{prop}>{value}</Iptc4xmpExt:{prop}>" in xmp, prop
    # Our namespace keeps only what IPTC has no field for; the old duplicates are gone.
    assert "<provenance:Purpose>set dressing</provenance:Purpose>" in xmp
    for dup in ("Tool", "ToolVersion", "Classification"):
        assert f"<provenance:{dup}>" not in xmp, dup

    verdict = json.loads(run("inspect", "--json", str(path), cwd=show).stdout)["verdicts"][0]
    assert verdict["classification"] == "ai_generated"
    assert verdict["declarations"]["tool"] == "Adobe Firefly"
    # The metadata reader takes ExifTool's JSON, which prints 4.10 as a number (as before, with
    # our own ToolVersion): what was written is checked in the raw XMP above.
    assert verdict["declarations"]["tool_version"] in ("4.10", "4.1")
    fields = {e["field"] for e in verdict["evidence"]}
    assert {"XMP-iptcExt:AISystemUsed", "XMP-iptcExt:AIPromptInformation"} <= fields

    # A re-tag without --prompt leaves the prompt alone (it may be the generator's own).
    proc = run("tag", "--generated", "--tool", "Adobe Firefly", "--no-c2pa", str(path), cwd=show)
    assert proc.returncode == EXIT_OK and proc.stdout.startswith("written")
    xmp = raw_xmp(path)
    assert "<Iptc4xmpExt:AIPromptInformation>a tabby cat on a sofa<" in xmp
    assert "AISystemVersionUsed" not in xmp  # no version given this time: not kept stale
