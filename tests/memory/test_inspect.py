"""`inspect` shows a file's fingerprint (kind, short value) and what in memory it matches."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from PIL import Image

from provenance.cli import main
from tests.gate.conftest import Show
from tests.memory.conftest import fp

pytestmark = pytest.mark.usefixtures("media_tools")


def test_inspect_shows_the_fingerprint_and_the_match_in_json_and_text(
        show: Show, corpus_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    original = show.root / "working" / "sky_v003.png"
    original.parent.mkdir(parents=True)
    shutil.copyfile(corpus_dir / "d13_invokeai.png", original)
    assert main(["scan", "--config", str(show.config_file), str(original.parent)]) in (0, 1)
    copy = show.pkg / "sky_final.jpg"
    Image.open(original).convert("RGB").resize((400, 400)).save(copy, quality=85)
    capsys.readouterr()

    main(["inspect", "--config", str(show.config_file), "--json", str(copy)])
    doc = json.loads(capsys.readouterr().out)
    [verdict] = doc["verdicts"] if isinstance(doc, dict) else doc
    [note] = [e["value"] for e in verdict["evidence"]
              if e["source"] == "content" and e["field"] == "fingerprint"]
    assert note.startswith("still; picture " + f"{fp(copy).frames[0].picture:064x}"[:12])
    memory = " ".join(m["statement"] for m in verdict["memory"])
    assert f"derived from {original}" in memory and "perceptual distance" in memory
    assert "no content fingerprint" not in memory  # a note is not a recollection

    main(["inspect", "--config", str(show.config_file), str(copy)])
    out = capsys.readouterr().out
    assert "fingerprint" in out and "picture" in out and "derived from" in out
