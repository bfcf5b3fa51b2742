"""`provenance service unit`: the systemd unit for a show, from the one template."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from provenance.cli.commands.service import render_unit
from tests.watch.conftest import write_show

REPO = Path(__file__).resolve().parents[2]


def _unit(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "provenance", "service", "unit", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=120)


def test_the_unit_names_this_show_and_this_installation(tmp_path: Path) -> None:
    show = tmp_path / "show"
    cfg = write_show(show)
    made = _unit("--config", str(cfg), "--user", "vfx", cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    lines = made.stdout.splitlines()
    exe = str(Path(sys.executable).parent / "provenance")
    assert f"ExecStart={exe} watch {cfg}" in lines
    assert {"Type=notify", "WatchdogSec=60", "User=vfx", "Group=vfx", f"WorkingDirectory={show}",
            "Environment=PROVENANCE_STATE_DIR=/var/lib/provenance", "StateDirectory=provenance",
            f"ReadWritePaths={show}/.provenance", "ProtectSystem=strict"} <= set(lines)
    out = tmp_path / "provenance-watch.service"
    assert _unit("--config", str(cfg), "--out", str(out), cwd=tmp_path).returncode == 0
    assert out.read_text().splitlines() == [line.replace("User=vfx", "User=provenance")
                                            .replace("Group=vfx", "Group=provenance")
                                            .replace("sudo -u vfx", "sudo -u provenance") for line in lines]


def test_the_shipped_example_is_the_template_rendered() -> None:
    example = render_unit(Path("/srv/shows/myshow/provenance.toml"), Path("/srv/shows/myshow"),
                          "/opt/provenance/venv/bin/provenance", "provenance", "provenance",
                          "provenance-watch")
    assert (REPO / "contrib" / "systemd" / "provenance-watch.service").read_text() == example


@pytest.mark.parametrize("folder", ["my show", "100%", 'q"uote', "new\nline"])
def test_paths_systemd_would_misread_are_refused(tmp_path: Path, folder: str) -> None:
    show = tmp_path / folder
    cfg = write_show(show)
    made = _unit("--config", str(cfg), cwd=tmp_path)
    assert made.returncode == 3 and "a systemd unit would read differently" in made.stderr
    assert made.stdout == ""


def test_without_a_show_config_there_is_no_unit(tmp_path: Path) -> None:
    made = _unit(cwd=tmp_path)
    assert made.returncode == 3 and "no provenance.toml" in made.stderr
