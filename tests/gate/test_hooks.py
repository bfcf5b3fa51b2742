"""hooks/ end to end with a real rsync: a blocked package never arrives, a clear one does."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
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


def test_the_hook_shipped_in_the_package_runs_as_a_command(show: Show, tmp_path: Path) -> None:
    # After a plain pip install there is no hooks/ folder: `provenance hook pre-handoff` runs the
    # copy inside the package, and finds its own provenance with neither $PROVENANCE nor PATH.
    ai_png(show.pkg / "gen.png")
    dest = tmp_path / "vendor"
    dest.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "PROVENANCE"}
    env["PATH"] = "/usr/bin:/bin"  # rsync and bash, not the venv
    argv = [str(PROVENANCE), "hook", "pre-handoff", "--config", str(show.config_file), str(show.pkg), "--",
            "rsync", "-a", f"{show.pkg}/", f"{dest}/"]
    blocked = subprocess.run(argv, capture_output=True, text=True, timeout=180, env=env)
    assert blocked.returncode == 1, blocked.stdout + blocked.stderr
    assert list(dest.iterdir()) == []
    (show.pkg / "gen.png").unlink()
    plain_png(show.pkg / "clean.png")
    sent = subprocess.run(argv, capture_output=True, text=True, timeout=180, env=env)
    assert sent.returncode == 0, sent.stdout + sent.stderr
    assert [p.name for p in dest.iterdir()] == ["clean.png"]
    unknown = subprocess.run([str(PROVENANCE), "hook", "post-handoff"], capture_output=True, text=True,
                             env=env)
    assert unknown.returncode == 2


def _build_wheel(out: Path) -> Path:
    """The wheel as `pip wheel` builds it, from a copy of the sources (no build/ or egg-info in the repo)."""
    src = out / "src-copy"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(REPO / name, src / name)
    shutil.copytree(REPO / "src", src / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    subprocess.run([str(REPO / ".venv" / "bin" / "pip"), "wheel", "--no-deps", "--no-build-isolation",
                    "--no-index", "-q", "-w", str(out / "dist"), str(src)], check=True, capture_output=True)
    (wheel,) = (out / "dist").glob("*.whl")
    return wheel


def _fresh_venv(folder: Path) -> Path:
    """A new virtualenv whose only `provenance` is the one installed from the wheel. Its dependencies
    come from the test venv's already-installed ones (no network), minus that venv's own provenance."""
    subprocess.run([sys.executable, "-m", "venv", str(folder)], check=True, capture_output=True)
    def purelib(python: str) -> Path:
        return Path(subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                                   check=True, capture_output=True, text=True).stdout.strip())

    site, ours = purelib(str(folder / "bin" / "python")), purelib(sys.executable)
    deps = folder.parent / "deps"
    deps.mkdir()
    for entry in ours.iterdir():
        if entry.name.startswith(("provenance", "media_provenance", "__editable__", "_provenance")) \
                or entry.suffix == ".pth":
            continue
        (deps / entry.name).symlink_to(entry)
    Path(site, "test-deps.pth").write_text(f"{deps}\n")
    return folder


def test_the_built_wheel_installs_a_working_tool_and_hook(show: Show, tmp_path: Path) -> None:
    wheel = _build_wheel(tmp_path)
    assert wheel.name.startswith("media_provenance-")  # "provenance" on PyPI is another project
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        meta = next(zf.read(n).decode() for n in names if n.endswith(".dist-info/METADATA"))
        scripts = next(zf.read(n).decode() for n in names if n.endswith(".dist-info/entry_points.txt"))
    assert {"provenance/data/hooks/pre-handoff", "provenance/data/hooks/rsync-gated"} <= names
    assert "Name: media-provenance" in meta and "provenance = provenance.cli:run" in scripts
    venv = _fresh_venv(tmp_path / "fresh")
    subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--no-deps", "--no-index",
                    str(wheel)], check=True, capture_output=True)
    where = subprocess.run([str(venv / "bin" / "python"), "-c",
                            "import provenance; print(provenance.__file__)"],
                           check=True, capture_output=True, text=True).stdout
    assert where.startswith(str(venv))
    ai_png(show.pkg / "gen.png")
    plain_png(show.pkg / "clean.png")
    dest = tmp_path / "vendor"
    dest.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "PROVENANCE"}
    env["PATH"] = "/usr/bin:/bin"
    hook = subprocess.run([str(venv / "bin" / "provenance"), "hook", "pre-handoff", "--config",
                           str(show.config_file), str(show.pkg), "--",
                           "rsync", "-a", f"{show.pkg}/", f"{dest}/"],
                          capture_output=True, text=True, timeout=300, env=env)
    assert hook.returncode == 1 and "gen.png" in hook.stdout + hook.stderr, hook.stdout + hook.stderr
    assert list(dest.iterdir()) == []
