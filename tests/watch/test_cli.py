"""`provenance scan`, `findings` and `status` through the CLI entry point."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from provenance.cli import cli
from provenance.config import load_config
from provenance.watch.daemon import status_path
from tests.watch.conftest import png_bytes, sha, write_show


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.output


def test_scan_judges_changes_only_and_lists_findings(tmp_path: Path) -> None:
    show = tmp_path / "show"
    cfg = str(write_show(show))
    ai = png_bytes(5000, ai=True)
    (show / "final" / "gen.png").write_bytes(ai)
    (show / "working" / "plain.png").write_bytes(png_bytes(5001, ai=False))
    code, out = _run("scan", str(show), "--config", cfg, "--json")
    first = json.loads(out)
    assert code == 0 and first["judged"] == first["files"] == 3  # two images + provenance.toml
    assert [(f["rule"], f["sha256"]) for f in first["new_findings"] if f["rule"] == "temporary-material"] \
        == [("temporary-material", sha(ai))]
    code, out = _run("scan", str(show), "--config", cfg, "--json")
    again = json.loads(out)
    assert again["judged"] == 0 and again["unchanged"] == 3 and again["new_findings"] == []
    (show / "final" / "gen.png").unlink()
    code, out = _run("scan", str(show), "--config", cfg, "--json")
    assert json.loads(out)["removed"] == 1
    code, out = _run("findings", "--config", cfg, "--json")
    assert code == 0 and not [f for f in json.loads(out)["findings"] if f["rule"] == "temporary-material"]


def test_findings_lists_path_hash_principle_and_what_clears_it(tmp_path: Path) -> None:
    show = tmp_path / "show"
    cfg = str(write_show(show))
    (show / "final" / "gen.png").write_bytes(png_bytes(5002, ai=True))
    _run("scan", str(show), "--config", cfg)
    code, out = _run("findings", "--config", cfg, "--json")
    found = [f for f in json.loads(out)["findings"] if f["rule"] == "temporary-material"]
    assert code == 0 and len(found) == 1
    f = found[0]
    assert f["path"] == str(show / "final" / "gen.png") and f["classification"] == "ai_generated"
    assert f["principle"] and f["clears_with"] == ["final-deliverable"]
    assert "final-deliverable" in f["clears_with_text"]


def test_status_says_never_started(tmp_path: Path) -> None:
    cfg = str(write_show(tmp_path / "show"))
    code, out = _run("status", "--config", cfg, "--json")
    # No ledger either: the daemon state is still reported, but exit 3 (nothing could be read).
    doc = json.loads(out)
    assert code == 3 and doc["state"] == "never-started" and "no ledger" in doc["reason"]


def test_readers_that_cannot_start_fail_closed(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    # A production signature row with a broken regex would stop the readers from loading: the
    # configuration is refused before anything is judged (exit 3, the line named), never a
    # silent "unknown" for every file.
    show = tmp_path / "show"
    cfg = write_show(show)
    lines = len(cfg.read_text().splitlines())
    with open(cfg, "a") as fh:
        fh.write('\n[[signatures]]\nfield = "XMP-xmp:CreatorTool"\nvalue = "(unclosed"\n'
                 'signal = "ai_generated"\n')
    (show / "final" / "gen.png").write_bytes(png_bytes(5003, ai=True))
    from provenance.cli import main

    assert main(["scan", str(show), "--config", str(cfg), "--json"]) == 3
    err = capsys.readouterr().err
    assert f"line {lines + 4}: [signatures] 0.value: not a valid regular expression" in err


def test_an_ai_image_disguised_as_a_sidecar_is_still_flagged(tmp_path: Path) -> None:
    show = tmp_path / "show"
    cfg = str(write_show(show))
    (show / "final" / "hero.exr").write_bytes(b"v/1\x01" + bytes(60))
    ai = png_bytes(5004, ai=True)
    (show / "final" / "hero.exr.xmp").write_bytes(ai)  # a PNG behind a sidecar name
    _code, out = _run("scan", str(show), "--config", cfg, "--json")
    flagged = {(f["rule"], f["sha256"]) for f in json.loads(out)["new_findings"]}
    assert ("temporary-material", sha(ai)) in flagged


@pytest.mark.parametrize("content", ["[" * 100_000 + "]" * 100_000, "[1, 2]", "not json"])
def test_status_reports_a_hostile_status_file_as_stale_not_a_crash(tmp_path: Path, content: str) -> None:
    # A damaged status file (a full disk, a hand edit) is stale, never a crash or "running".
    cfg = write_show(tmp_path / "show")
    path = status_path(load_config(cfg))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content)
    result = CliRunner().invoke(cli, ["status", "--config", str(cfg), "--json"])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    doc = json.loads(result.output)
    assert doc["state"] == "stale" and "unreadable status file" in doc["reason"]
    assert result.exit_code == 3
