"""`provenance signer init` puts each key where it belongs (issue 13 item 6), as real processes:
the CA key never on editorial storage, the signing key shared with a group of artists only
when asked, and a real unprivileged artist signing (or not) with `tag`."""

from __future__ import annotations

import grp
import json
import os
import pwd
import stat
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from provenance.cli import main
from provenance.private_keys import looks_like_private_key
from tests.unprivileged import PROVENANCE, Unprivileged


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "XDG_CONFIG_HOME": str(cwd / "xdg")}
    env.pop("PROVENANCE_CONFIG", None)
    return subprocess.run([sys.executable, "-m", "provenance", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, check=False)


@pytest.fixture
def show(tmp_path: Path) -> Path:
    folder = tmp_path / "show"
    folder.mkdir()
    assert main(["init", str(folder)]) == 0
    return folder


def _private_keys_under(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and looks_like_private_key(p.read_bytes()))


def test_the_ca_key_goes_to_the_operators_private_state_not_the_show(show: Path,
                                                                     private_state_home: Path) -> None:
    proc = run("signer", "init", "--json", cwd=show)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    ca_key = Path(out["ca_key"])
    # the only secret anywhere in the show is the signing key
    assert _private_keys_under(show) == [show / ".provenance" / "signing" / "signer.key"]
    assert ca_key.is_relative_to(private_state_home) and looks_like_private_key(ca_key.read_bytes())
    assert stat.S_IMODE(ca_key.stat().st_mode) == 0o600
    assert stat.S_IMODE(ca_key.parent.stat().st_mode) == 0o700
    assert out["key_mode"] == "0600"


def test_a_chosen_ca_key_path_outside_the_show_is_used(show: Path, tmp_path: Path) -> None:
    chosen = tmp_path / "offline" / "production-ca.key"
    proc = run("signer", "init", "--ca-key", str(chosen), cwd=show)
    assert proc.returncode == 0, proc.stderr
    assert f"CA private key:    {chosen}" in proc.stdout
    assert looks_like_private_key(chosen.read_bytes()) and stat.S_IMODE(chosen.stat().st_mode) == 0o600
    assert _private_keys_under(show) == [show / ".provenance" / "signing" / "signer.key"]
    assert "PRIVATE KEY" not in proc.stdout + proc.stderr


@pytest.mark.parametrize("where", ["show", "signing", "symlink", "root", "relative"])
def test_a_ca_key_path_inside_the_show_is_refused(show: Path, tmp_path: Path, where: str) -> None:
    elsewhere = tmp_path / "media"
    elsewhere.mkdir()
    with open(show / "provenance.toml", "a") as fh:
        fh.write(f'\n[[roots]]\npath = "{elsewhere}"\n')
    (tmp_path / "link").symlink_to(show)
    path = {"show": str(show / "keys" / "ca.key"),
            "signing": str(show / ".provenance" / "signing" / "ca.key"),
            "symlink": str(tmp_path / "link" / "ca.key"),  # the show under another name
            "root": str(elsewhere / "ca.key"),
            "relative": "ca.key"}[where]
    proc = run("signer", "init", "--ca-key", path, cwd=show)
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert "the CA key must not live inside" in proc.stderr and "ca.key" in proc.stderr
    assert _private_keys_under(show) == [] and _private_keys_under(elsewhere) == []


@pytest.mark.parametrize("mode", ["0644", "0604", "0700", "0200", "abc"])
def test_a_signing_key_mode_open_to_others_is_refused(show: Path, mode: str) -> None:
    proc = run("signer", "init", "--mode", mode, cwd=show)
    assert proc.returncode in (2, 3), proc.stdout + proc.stderr
    assert "mode" in proc.stderr
    assert _private_keys_under(show) == []


def _artist_show(unprivileged: Unprivileged) -> Path:
    show = unprivileged.home / "show"
    show.mkdir()
    assert main(["init", str(show)]) == 0
    (show / ".provenance").chmod(0o777)  # the ledger the artist's tag records into
    (show / "shots").mkdir(mode=0o777)
    (show / "shots").chmod(0o777)  # the artist's working folder
    return show


def _own_state(who: Unprivileged) -> dict[str, str]:
    """The artist's own host state (the show's ledger on this host lives there)."""
    return {"PROVENANCE_STATE_DIR": str(who.home / "state")}


def test_a_group_of_artists_can_sign_with_tag(unprivileged: Unprivileged,
                                              media: Callable[..., Path]) -> None:
    show = _artist_show(unprivileged)
    group = grp.getgrgid(pwd.getpwnam(unprivileged.user).pw_gid).gr_name  # the artist's group
    proc = run("signer", "init", "--group", group, cwd=show)
    assert proc.returncode == 0, proc.stderr
    key = show / ".provenance" / "signing" / "signer.key"
    st = key.stat()
    assert stat.S_IMODE(st.st_mode) == 0o640 and st.st_gid == grp.getgrnam(group).gr_gid
    assert stat.S_IMODE(key.parent.stat().st_mode) == 0o750
    target = show / "shots" / "shot.jpg"
    target.write_bytes(media("jpeg", "shot.jpg").read_bytes())
    target.chmod(0o666)
    tagged = unprivileged.run([PROVENANCE, "tag", "--generated", "--tool", "X", "--json", target], cwd=show,
                              env=_own_state(unprivileged))
    assert tagged.returncode == 0, tagged.stdout + tagged.stderr
    row = json.loads(tagged.stdout)["results"][0]
    assert row["outcome"] == "written" and "c2pa" in json.dumps(row)


def test_without_a_group_another_artist_cannot_sign(unprivileged: Unprivileged,
                                                   media: Callable[..., Path]) -> None:
    show = _artist_show(unprivileged)
    assert run("signer", "init", cwd=show).returncode == 0
    target = show / "shots" / "shot.jpg"
    target.write_bytes(media("jpeg", "shot.jpg").read_bytes())
    target.chmod(0o666)
    tagged = unprivileged.run([PROVENANCE, "tag", "--generated", "--tool", "X", target], cwd=show,
                              env=_own_state(unprivileged))
    assert tagged.returncode == 3
    assert "signer.key" in tagged.stderr or "signing" in tagged.stderr, tagged.stdout + tagged.stderr
