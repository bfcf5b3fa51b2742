from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

import pytest

from provenance._os import TMP_PREFIX, host_tag, write_atomic
from provenance.tagging.atomic import clean_stale_temps


def test_write_atomic_replaces_and_keeps_secrets_private(tmp_path: Path) -> None:
    target = tmp_path / "signer.key"
    target.write_bytes(b"old")
    write_atomic(target, b"new secret", 0o600)
    assert target.read_bytes() == b"new secret"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["signer.key"]


def test_failed_write_leaves_original_and_no_temp(tmp_path: Path) -> None:
    target = tmp_path / "approvers.toml"
    target.write_bytes(b"original")
    with pytest.raises(TypeError):
        write_atomic(target, "not bytes")  # type: ignore[arg-type]
    assert target.read_bytes() == b"original"
    assert [p.name for p in tmp_path.iterdir()] == ["approvers.toml"]


def test_a_killed_writers_temp_is_cleaned_by_the_shared_naming_scheme(tmp_path: Path) -> None:
    dead = subprocess.Popen(["true"])
    dead.wait()
    leftover = tmp_path / f"{TMP_PREFIX}{host_tag()}.{dead.pid}.0123456789ab"
    leftover.write_bytes(b"half")
    mine = tmp_path / f"{TMP_PREFIX}{host_tag()}.{os.getpid()}.0123456789ab"
    mine.write_bytes(b"in flight")
    assert clean_stale_temps(tmp_path) == [leftover]
    assert mine.exists()
