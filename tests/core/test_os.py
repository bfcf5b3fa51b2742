from __future__ import annotations

import os
import socket
import stat
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from provenance._os import (
    TMP_PREFIX,
    NotRegularFile,
    TooLarge,
    host_tag,
    make_dirs,
    open_regular,
    read_bounded,
    read_regular,
    write_atomic,
)
from provenance.tagging.atomic import clean_stale_temps
from tests.trees import within


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


@pytest.mark.parametrize(("make", "kind"), [
    (os.mkfifo, "a FIFO"),
    (lambda p: socket.socket(socket.AF_UNIX).bind(str(p)), "a socket"),
    (os.mkdir, "a folder"),
])
def test_open_regular_refuses_what_is_not_a_regular_file_without_blocking(
        tmp_path: Path, make: Callable[[Path], None], kind: str) -> None:
    special = tmp_path / "x.jpg.xmp"
    make(special)
    with pytest.raises(NotRegularFile, match=f"not a regular file \\({kind}\\)"):
        within(10, special, lambda: read_regular(special))
    os.symlink(special, tmp_path / "link")  # a symlink to one is refused alike
    with pytest.raises(NotRegularFile):
        within(10, special, lambda: read_regular(tmp_path / "link"))


def test_read_regular_reads_a_file_up_to_its_limit(tmp_path: Path) -> None:
    f = tmp_path / "a.approval.json"
    f.write_bytes(b"0123456789")
    assert read_regular(f) == b"0123456789" and read_regular(f, 4) == b"0123"
    with open_regular(f) as fh:
        assert fh.read(2) == b"01"


def test_make_dirs_leaves_no_new_folder_group_writable_whatever_the_umask(tmp_path: Path) -> None:
    old = os.umask(0o002)  # a user-private-group default: plain mkdir -p makes 0775 folders
    try:
        make_dirs(tmp_path / "state" / "shows" / "show-1")
        make_dirs(tmp_path / "state" / "shows" / "show-1")  # there already: nothing to do
    finally:
        os.umask(old)
    for folder in (tmp_path / "state", tmp_path / "state" / "shows", tmp_path / "state" / "shows" / "show-1"):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o755, folder


def test_read_bounded_reads_a_file_of_the_bound_and_refuses_a_longer_one(tmp_path: Path) -> None:
    f = tmp_path / "CPL.xml"
    f.write_bytes(b"x" * 1024)
    assert read_bounded(f, 1024) == b"x" * 1024
    with pytest.raises(TooLarge, match="larger than 1,023 bytes") as raised:
        read_bounded(f, 1023)
    assert isinstance(raised.value, OSError) and raised.value.filename == str(f)  # an OSError callers catch
    with pytest.raises(TooLarge, match="larger than 1 MiB"):
        os.truncate(f, (1 << 20) + 1)
        read_bounded(f, 1 << 20)
    os.mkfifo(tmp_path / "fifo")
    with pytest.raises(NotRegularFile):
        within(10, tmp_path / "fifo", lambda: read_bounded(tmp_path / "fifo", 10))
