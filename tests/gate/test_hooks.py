"""hooks/ end to end with a real rsync: a blocked package never arrives, a clear one does."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from provenance.model import Scope
from tests.gate.conftest import PROVENANCE, REPO, Show, ai_png, plain_png

HOOKS = REPO / "hooks"
pytestmark = pytest.mark.skipif(shutil.which("rsync") is None, reason="rsync not installed")


def run(*cmd: str | Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=180,
                          env={**os.environ, "PROVENANCE": str(PROVENANCE), **(env or {})})


def test_pre_handoff_refuses_blocked_package(show: Show, tmp_path: Path) -> None:
    ai_png(show.pkg / "gen.png")
    plain_png(show.pkg / "clean.png")
    dest = tmp_path / "vendor"
    dest.mkdir()
    proc = run(HOOKS / "pre-handoff", "--config", show.config_file, show.pkg, "--",
               "rsync", "-a", f"{show.pkg}/", f"{dest}/")
    assert proc.returncode == 1
    assert "REFUSED" in proc.stderr and "blocked" in proc.stderr
    assert list(dest.iterdir()) == []


def test_pre_handoff_sends_clear_and_approved_package(show: Show, tmp_path: Path) -> None:
    gen = ai_png(show.pkg / "gen.png")
    plain_png(show.pkg / "clean.png")
    show.add_approver("Legal", {Scope.FINAL_DELIVERABLE})
    show.approve(gen, "Legal", {Scope.FINAL_DELIVERABLE})
    dest = tmp_path / "vendor"
    proc = run(HOOKS / "pre-handoff", "--config", show.config_file, show.pkg, "--",
               "rsync", "-a", f"{show.pkg}/", f"{dest}/")
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in dest.iterdir()) == ["clean.png", "gen.png", "gen.png.approval.json"]


def test_rsync_gated_blocks_then_sends_once_approved(show: Show, tmp_path: Path) -> None:
    gen = ai_png(show.pkg / "gen.png")
    dest = tmp_path / "vendor"
    dest.mkdir()
    env = {"PROVENANCE_GATE_ARGS": f"--config {show.config_file}"}
    blocked = run(HOOKS / "rsync-gated", "-a", "--exclude", "*.tmp", f"{show.pkg}/", f"{dest}/", env=env)
    assert blocked.returncode == 1 and list(dest.iterdir()) == []
    show.add_approver("Legal", {Scope.FINAL_DELIVERABLE})
    show.approve(gen, "Legal", {Scope.FINAL_DELIVERABLE})
    sent = run(HOOKS / "rsync-gated", "-a", "--exclude", "*.tmp", f"{show.pkg}/", f"{dest}/", env=env)
    assert sent.returncode == 0, sent.stderr
    assert (dest / "gen.png").read_bytes() == gen.read_bytes()


def test_hooks_fail_closed_without_provenance(show: Show, tmp_path: Path) -> None:
    plain_png(show.pkg / "clean.png")
    dest = tmp_path / "vendor"
    dest.mkdir()
    proc = run(HOOKS / "pre-handoff", show.pkg, "--", "rsync", "-a", f"{show.pkg}/", f"{dest}/",
               env={"PROVENANCE": str(tmp_path / "not-installed")})
    assert proc.returncode == 3 and "not found" in proc.stderr
    assert list(dest.iterdir()) == []


def test_rsync_gated_refuses_remote_source_and_files_from(tmp_path: Path) -> None:
    assert run(HOOKS / "rsync-gated", "-a", "host:/pkg/", str(tmp_path)).returncode == 3
    assert run(HOOKS / "rsync-gated", "-a", "--files-from=list.txt", ".", str(tmp_path)).returncode == 3


def test_pre_handoff_usage_errors_exit_2(show: Show) -> None:
    assert run(HOOKS / "pre-handoff", show.pkg).returncode == 2  # no `--`
    assert run(HOOKS / "pre-handoff", show.pkg, "--").returncode == 2  # nothing to run
