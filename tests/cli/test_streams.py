"""Results on stdout, diagnostics on stderr, checked on a real `provenance` process (what a
handoff script sees through `gate … > log` or `--json | jq`)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.cli.conftest import Show, ai_png, plain_png, validated
from tests.gate.conftest import PROVENANCE


def _run(*args: object) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "120"}
    return subprocess.run([str(PROVENANCE), *map(str, args)], capture_output=True, text=True, timeout=120,
                          env=env)


def test_the_gate_report_and_its_verdict_go_to_stdout_clear_or_blocked(show: Show) -> None:
    plain_png(show.pkg / "plain.png")
    clear = _run("gate", "--config", show.config_file, show.pkg)
    assert clear.returncode == 0, clear.stderr
    assert clear.stdout.splitlines()[-2:] == ["1 file: 1 clear, 0 blocked",  # plural: "1 file"
                                              "gate: CLEAR — ok to send (exit 0)"]
    assert clear.stderr == ""

    ai_png(show.pkg / "gen.png")
    blocked = _run("gate", "--config", show.config_file, show.pkg)
    assert blocked.returncode == 1
    lines = blocked.stdout.splitlines()
    assert lines[0].startswith("BLOCKED   gen.png (ai_generated)")
    assert lines[-1] == "gate: BLOCKED — do not send (exit 1)"
    assert blocked.stderr == ""


def test_with_json_stdout_is_one_document_and_the_people_read_stderr(show: Show) -> None:
    ai_png(show.pkg / "gen.png")
    done = _run("gate", "--json", "--config", show.config_file, show.pkg)
    assert done.returncode == 1
    doc = validated(done.stdout)
    assert (doc["schema"], doc["result"], doc["exit_code"]) == ("provenance.gate/v1", "blocked", 1)
    assert "gate: BLOCKED — do not send (exit 1)" in done.stderr


def test_an_error_with_json_is_a_json_error_document_and_a_message(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.toml"
    done = _run("findings", "--json", "--config", missing)
    assert done.returncode == 3
    doc = validated(done.stdout)
    assert doc["error"] == {"type": "ConfigError", "message": "configuration file not found",
                            "path": str(missing)}
    assert doc["exit_code"] == 3
    assert f"{missing}: configuration file not found" in done.stderr

    usage = _run("approve", "--json", "x.png")  # no --scope, --ref, --key
    assert usage.returncode == 2
    assert validated(usage.stdout)["error"]["type"] == "usage"
    assert "Missing option" in usage.stderr and "Usage: provenance approve" in usage.stderr


def test_the_gate_undecided_with_json_is_its_own_report_carrying_the_error(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.toml"
    done = _run("gate", "--json", "--config", missing, tmp_path)
    assert done.returncode == 3
    doc = validated(done.stdout)
    assert doc["result"] == "undecided" and doc["error"]["path"] == str(missing)
    assert "gate: UNDECIDED — do not send (exit 3)" in done.stderr
