"""`provenance inspect` and `provenance readers` through the real CLI entry point."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from provenance.cli import main
from tests.evidence.conftest import make_jpeg, make_png
from tests.evidence.test_metadata import A1111

pytestmark = pytest.mark.usefixtures("exiftool_available")
KEYS = {"path", "sha256", "format", "classification", "evidence", "c2pa", "errors"}


def _json(capsys: pytest.CaptureFixture[str], argv: list[str]) -> tuple[int, list[dict]]:
    code = main(argv)
    return code, json.loads(capsys.readouterr().out)["verdicts"]


def test_inspect_json_all_readable(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    make_png(tmp_path / "a1111.png", {"parameters": A1111})
    (tmp_path / "sub").mkdir()
    make_jpeg(tmp_path / "sub" / "plain.jpg")
    code, out = _json(capsys, ["inspect", "--json", str(tmp_path)])
    assert code == 0
    assert [Path(o["path"]).name for o in out] == ["a1111.png", "plain.jpg"]
    for o in out:
        assert o.keys() >= KEYS
        assert {"present", "integrity", "trust", "manifests"} <= o["c2pa"].keys()
        assert all({"source", "field", "value"} <= e.keys() for e in o["evidence"])
    assert [o["classification"] for o in out] == ["ai_generated", "unknown"]
    assert out[0]["format"] == "png" and len(out[0]["sha256"]) == 64


def test_inspect_exit_3_when_any_file_unreadable(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    make_png(tmp_path / "good.png", {"parameters": A1111})
    os.mkfifo(tmp_path / "pipe.png")
    code, out = _json(capsys, ["inspect", "--json", str(tmp_path), str(tmp_path / "missing.jpg")])
    assert code == 3
    by_name = {Path(o["path"]).name: o for o in out}
    assert by_name["good.png"]["classification"] == "ai_generated"
    assert by_name["pipe.png"]["errors"] == ["not a regular file (a FIFO)"]
    assert by_name["missing.jpg"]["errors"] == ["no such file"]


def test_inspect_table(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    make_png(tmp_path / "a1111.png", {"parameters": A1111})
    assert main(["inspect", str(tmp_path)]) == 0
    text = capsys.readouterr().out
    assert "a1111.png" in text and "ai_generated" in text and "AUTOMATIC1111" in text


def test_inspect_with_config(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "provenance.toml"
    config.write_text('[[signatures]]\nfield = "PNG:Software"\nvalue = "^StudioGen"\n'
                      'signal = "ai_generated"\ngenerator = "StudioGen"\n')
    make_png(tmp_path / "s.png", {"Software": "StudioGen 2"})
    code, out = _json(capsys, ["inspect", "--json", "--config", str(config), str(tmp_path / "s.png")])
    assert code == 0 and out[0]["classification"] == "ai_generated"
    assert out[0]["generator"] == "StudioGen"


def test_usage_error_is_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["inspect"]) == 2


def test_readers(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["readers", "--json"]) == 0
    names = {r["name"] for r in json.loads(capsys.readouterr().out)["readers"]}
    assert {"c2pa", "metadata", "sidecar"} <= names
