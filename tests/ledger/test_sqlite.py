"""The embedded SQLite ledger: WAL settings, and refusing a network filesystem (WAL breaks there)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from provenance.errors import LedgerError
from provenance.ledger import Ledger, filesystem_type, is_network_fstype, store

MOUNTS = """\
sysfs /sys sysfs rw,nosuid 0 0
/dev/sda1 / ext4 rw,relatime 0 0
nas:/export/show /mnt/show nfs4 rw,vers=4.2 0 0
//filer/edit /mnt/edit\\040bay cifs rw 0 0
user@host:/x /mnt/ssh fuse.sshfs rw 0 0
tmpfs /mnt/show/local tmpfs rw 0 0
"""


def test_connection_settings(tmp_path: Path) -> None:
    with Ledger.open(f"sqlite:///{tmp_path / 'ledger.db'}") as ledger, ledger.engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar_one() == "wal"
        assert conn.execute(text("PRAGMA synchronous")).scalar_one() == 1  # NORMAL
        assert conn.execute(text("PRAGMA busy_timeout")).scalar_one() == store.BUSY_TIMEOUT_MS
        assert conn.execute(text("PRAGMA foreign_keys")).scalar_one() == 1


def test_ledger_folder_is_created(tmp_path: Path) -> None:
    db = tmp_path / ".provenance" / "deep" / "ledger.db"
    with Ledger.open(f"sqlite:///{db}"):
        pass
    assert db.is_file()


def test_filesystem_type_uses_the_longest_mount_prefix(tmp_path: Path) -> None:
    mounts = tmp_path / "mounts"
    mounts.write_text(MOUNTS)
    assert filesystem_type("/mnt/show/ep101/ledger.db", mounts) == "nfs4"
    assert filesystem_type("/mnt/show/local/ledger.db", mounts) == "tmpfs"
    assert filesystem_type("/mnt/edit bay/x", mounts) == "cifs"
    assert filesystem_type("/mnt/showroom/x", mounts) == "ext4"  # a name prefix is not a mount prefix
    assert filesystem_type("/home/me/x", mounts) == "ext4"
    assert [is_network_fstype(t) for t in ("nfs4", "cifs", "smb3", "fuse.sshfs", "ext4", "tmpfs", None)] == [
        True, True, True, True, False, False, False]


def test_sqlite_ledger_on_a_network_mount_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    share = tmp_path / "nas"
    share.mkdir()
    mounts = tmp_path / "mounts"
    mounts.write_text(MOUNTS + f"nas:/export {share.resolve()} nfs rw 0 0\n")
    monkeypatch.setattr(store, "MOUNTS", str(mounts))
    with pytest.raises(LedgerError, match="network filesystem \\(nfs\\)"):
        Ledger.open(f"sqlite:///{share / 'ledger.db'}")
    assert not (share / "ledger.db").exists()
    with Ledger.open(f"sqlite:///{share / 'ledger.db'}", allow_network_fs=True):
        pass  # an explicit, informed override


def test_the_real_mount_table_is_read() -> None:
    assert filesystem_type("/") is not None


def test_unsupported_url_is_a_ledger_error() -> None:
    with pytest.raises(LedgerError, match="unsupported ledger backend"):
        Ledger.open("mysql://x@y/z")
    with pytest.raises(LedgerError, match="not a database URL"):
        Ledger.open("not a url")
