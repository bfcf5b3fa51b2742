"""`provenance tag` and `provenance signer init` through the real entry point."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from provenance.cli import main
from provenance.errors import EXIT_OK, EXIT_UNDECIDED, EXIT_USAGE
from provenance.identify import sha256_file
from provenance.identity import SigningIdentity


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "XDG_CONFIG_HOME": str(cwd / "xdg")}
    env.pop("PROVENANCE_CONFIG", None)
    return subprocess.run([sys.executable, "-m", "provenance", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, check=False)


@pytest.fixture
def show(tmp_path: Path) -> Path:
    assert main(["init", str(tmp_path)]) == 0
    return tmp_path


def test_without_identity_says_how_to_make_one(show: Path, media: Callable[..., Path]) -> None:
    path = media("jpeg")
    proc = run("tag", "--generated", "--tool", "X", str(path), cwd=show)
    assert proc.returncode == EXIT_UNDECIDED
    assert "provenance signer init" in proc.stderr and "--no-c2pa" in proc.stderr
    # XMP only works without an identity
    proc = run("tag", "--generated", "--tool", "X", "--no-c2pa", str(path), cwd=show)
    assert proc.returncode == EXIT_OK, proc.stderr
    assert proc.stdout.startswith("written") and "[xmp]" in proc.stdout


def test_signer_init_then_tag_folder(show: Path, media: Callable[..., Path]) -> None:
    proc = run("signer", "init", "--org", "Test Show", cwd=show)
    assert proc.returncode == EXIT_OK, proc.stderr
    assert "PRIVATE KEY" not in proc.stdout + proc.stderr
    signing = show / ".provenance" / "signing"
    assert stat.S_IMODE((signing / "signer.key").stat().st_mode) == 0o600
    assert not (signing / "ca.key").exists()  # the CA key is never beside the signing key
    assert stat.S_IMODE(signing.stat().st_mode) == 0o700
    assert run("signer", "init", cwd=show).returncode == EXIT_USAGE  # no silent replace: --force would

    folder = show / "shots"
    folder.mkdir()
    a = media("jpeg", "a.jpg")
    b = media("wav", "b.wav")
    a.rename(folder / "a.jpg")
    b.rename(folder / "-b.wav")
    (folder / "bad.jpg").write_bytes(b"\xff\xd8\xff not really")
    proc = run("tag", "--edited", "--tool", "Nuke", "--talent-likeness", "--json", "shots",
               cwd=show)
    assert proc.returncode == EXIT_UNDECIDED  # one file failed; the rest were tagged
    rows = {Path(r["path"]).name: r for r in json.loads(proc.stdout)["results"]}
    assert rows["a.jpg"]["outcome"] == "written" and rows["-b.wav"]["outcome"] == "written"
    assert rows["bad.jpg"]["outcome"] == "error" and rows["bad.jpg"]["reason"]

    proc = run("inspect", "--json", "--", "shots/-b.wav", cwd=show)
    verdict = json.loads(proc.stdout)["verdicts"][0]
    assert verdict["classification"] == "ai_edited"
    # The show's own CA verifies the tag but proves nothing: only host-pinned capture anchors do.
    assert verdict["c2pa"]["trust"] == "untrusted" and verdict["c2pa"]["integrity"] == "ok"
    assert verdict["declarations"]["risks"] == ["talent-likeness"]

    proc = run("tag", "--edited", "--tool", "Nuke", "--talent-likeness", "--", "shots/a.jpg",
               "shots/-b.wav", cwd=show)
    assert proc.returncode == EXIT_OK
    assert [line.split()[0] for line in proc.stdout.splitlines()] == ["unchanged"] * 2


def test_external_cert_and_dry_run(show: Path, media: Callable[..., Path],
                                   signing_identity: SigningIdentity) -> None:
    path = media("png")
    digest = sha256_file(path)
    args = ["tag", "--generated", "--tool", "X", "--cert", str(signing_identity.chain_path),
            "--key", str(signing_identity.key_path)]
    proc = run(*args, "--dry-run", str(path), cwd=show)
    assert proc.returncode == EXIT_OK and proc.stdout.startswith("dry-run")
    assert sha256_file(path) == digest
    proc = run(*args, str(path), cwd=show)
    assert proc.returncode == EXIT_OK, proc.stdout + proc.stderr
    assert sha256_file(path) != digest


def test_usage_errors(show: Path, media: Callable[..., Path]) -> None:
    path = str(media("jpeg"))
    assert run("tag", "--tool", "X", path, cwd=show).returncode == 2
    assert run("tag", "--generated", path, cwd=show).returncode == 2
    assert run("tag", "--generated", "--tool", "X", "--cert", path, path, cwd=show).returncode == 2
