"""A time limit ends the work for real: a reader that never returns is abandoned AND the process
exits with its answer (issue 10 item 11: the gate printed UNDECIDED and then hung for 12 minutes,
so the hook in front of the transfer waited forever).

The real CLI runs in a subprocess, with one built-in reader (c2pa: "a c2pa read that never
returns"; metadata) replaced by a test plug-in that hangs; the test's own timeout is
what fails on the old code.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.gate.conftest import REPO, ai_png
from tests.show_ledger import make_ledger

# Swap a built-in reader for a hanging plug-in, then run the real program entry point.
RUNNER = (
    "import sys\n"
    "from provenance.evidence import registry\n"
    "registry.BUILTIN_READERS[sys.argv[1]] = 'tests.evidence.plugins:' + sys.argv[2]\n"
    "sys.argv[1:] = sys.argv[3:]\n"
    "from provenance.cli import run\n"
    "run()\n"
)
CONFIG = """\
[ledger]
url = "sqlite:///.provenance/ledger.db"
[inspect]
time_limit_seconds = 1
[policy]
unknown = "pass"
unvetted_tools = "warn"
"""
WALL = 60  # far above the 1 s limit + 5 s backstop; only a process that never exits reaches it


def _show(tmp_path: Path) -> tuple[Path, Path]:
    show = tmp_path / "show"
    (show / ".provenance").mkdir(parents=True)
    (show / "provenance.toml").write_text(CONFIG)
    make_ledger(show / "provenance.toml")
    pkg = show / "final"
    ai_png(pkg / "gen.png")
    return show, pkg


def _run(show: Path, reader: str, plugin: str, *args: str) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run([sys.executable, "-c", RUNNER, reader, plugin, *args,
                               "--config", str(show / "provenance.toml")],
                              cwd=REPO, capture_output=True, text=True, timeout=WALL)
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"`provenance {' '.join(args)}` with a hung {reader} reader never exited "
                    f"(stderr: {exc.stderr!r})")


@pytest.mark.parametrize("reader", ["c2pa", "metadata"])
def test_the_gate_exits_undecided_when_a_reader_never_returns(
        tmp_path: Path, exiftool_available: None, reader: str) -> None:
    show, pkg = _show(tmp_path)
    run = _run(show, reader, "Forever", "gate", "--json", str(pkg))
    assert run.returncode == 3, run.stderr
    report = json.loads(run.stdout)
    assert report["result"] == "undecided"
    assert all(a["status"] == "undecided" for a in report["assets"]), report["assets"]
    assert any("timed out" in e for a in report["assets"] for f in a["files"] for e in f["errors"])


def test_the_gate_exits_undecided_when_a_reader_never_starts(
        tmp_path: Path, exiftool_available: None) -> None:
    show, pkg = _show(tmp_path)
    run = _run(show, "c2pa", "NeverStarts", "gate", "--json", str(pkg))
    assert run.returncode == 3, run.stderr
    report = json.loads(run.stdout)
    assert report["result"] == "undecided"
    assert any("did not start" in e for a in report["assets"] for f in a["files"] for e in f["errors"])


@pytest.mark.parametrize("command", [["inspect", "--json"], ["scan", "--json"]])
def test_inspect_and_scan_end_when_a_c2pa_read_never_returns(
        tmp_path: Path, exiftool_available: None, command: list[str]) -> None:
    show, pkg = _show(tmp_path)
    run = _run(show, "c2pa", "Forever", *command, str(pkg))
    assert run.returncode == 3, (run.returncode, run.stderr)
    assert "timed out" in run.stdout, run.stdout
