"""`inspect` for people: natural order, a path column that holds the path, progress on a
terminal (stderr, through a real pty) and nothing but the table on stdout."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from provenance.cli import main
from provenance.wording import plural
from tests.cli.conftest import ai_png, plain_png
from tests.gate.conftest import PROVENANCE
from tests.terminal import stderr_on_a_terminal


@pytest.fixture
def frames(tmp_path: Path) -> Path:
    folder = tmp_path / "ep101_sq010_sh0420_comp_v003_plates_of_the_night"  # + name: 69 characters
    for n in (2999, 998, 10):  # not a frame number (that would be a sequence): a name's number
        plain_png(folder / f"shot_f{n}_comp.png", n)
    ai_png(folder / "zz_gen.png")
    return folder


def test_natural_order_and_a_path_column_that_holds_the_path(frames: Path, capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("COLUMNS", "120")
    monkeypatch.chdir(frames.parent)
    assert main(["inspect", str(frames)]) == 0
    out = capsys.readouterr().out
    order = [out.index(f"shot_f{n}_comp.png") for n in (10, 998, 2999)]
    assert order == sorted(order), "f998 comes before f2999"
    assert all(len(line) <= 120 for line in out.splitlines())
    # Relative to the current folder, on one line, never wrapped mid-name.
    whole = f"{frames.name}/shot_f2999_comp.png"
    assert whole in out and str(frames.parent) not in out


def test_progress_goes_to_a_terminal_on_stderr_and_never_to_stdout(frames: Path, tmp_path: Path) -> None:
    for n in range(30):
        plain_png(frames / f"more_{n}_take.png", n)
    run = stderr_on_a_terminal([PROVENANCE, "inspect", frames],
                               env={**os.environ, "COLUMNS": "120", "TERM": "xterm"})
    seen, out = run.terminal, run.stdout
    assert run.returncode == 0
    assert b"inspect" in seen and b"files" in seen, seen[:400]
    assert b"\x1b[" not in out and b"shot_f998_comp.png" in out  # stdout: the table, no terminal codes


def test_no_progress_when_stderr_is_not_a_terminal(frames: Path) -> None:
    done = subprocess.run([str(PROVENANCE), "inspect", str(frames)], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0 and done.stderr == ""


@pytest.mark.parametrize(("n", "noun", "expected"), [
    (1, "file", "1 file"), (2, "file", "2 files"), (0, "file", "0 files"),
    (1, "clear asset", "1 clear asset"), (3, "clear asset", "3 clear assets"), (2, "match", "2 matches"),
    (2, "entry", "2 entries"),
])
def test_plural(n: int, noun: str, expected: str) -> None:
    assert plural(n, noun) == expected
