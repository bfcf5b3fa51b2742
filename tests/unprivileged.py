"""Running a real command as a real unprivileged user, so file permissions bite.

The tests run as root here, and root reads a mode-000 folder as if it were open. A transfer
agent often runs as another user: these helpers run `provenance` as `nobody` (via
`setpriv`) in a folder tree that user may traverse. Tests skip only when no such user can be
used (not root, no `setpriv`, no `nobody`, or `nobody` cannot run the venv).
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PROVENANCE = REPO / ".venv" / "bin" / "provenance"
PYTHON = REPO / ".venv" / "bin" / "python"


@dataclass(frozen=True)
class Unprivileged:
    user: str
    home: Path  # a folder this user can traverse and write in (a fresh one per test)

    def command(self, argv: Sequence[str | os.PathLike[str]]) -> list[str]:
        """`argv` as this user (for Popen; `run` waits for it)."""
        return ["setpriv", f"--reuid={self.user}", f"--regid={pwd.getpwnam(self.user).pw_gid}",
                "--clear-groups", "--", *map(os.fspath, argv)]

    def env(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        return {**os.environ, "HOME": str(self.home), **(extra or {})}

    def own_ledger(self, config_file: Path) -> Path:
        """The show's SQLite ledger, made as `provenance init` makes it and given to this user
        with its folder; see `give_ledger`."""
        user = pwd.getpwnam(self.user)
        return give_ledger(config_file, user.pw_uid, user.pw_gid)

    def run(self, argv: Sequence[str | os.PathLike[str]], cwd: Path, timeout: float = 120,
            env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(self.command(argv), cwd=cwd, capture_output=True, text=True, timeout=timeout,
                              env=self.env(env))


def give_ledger(config_file: Path, uid: int, gid: int) -> Path:
    """Make the SQLite ledger `config_file` names (the gate never creates one) and give it and
    its folder to `uid`, closed to others: the gate running as that user records into it, and
    refuses a ledger in a folder anyone else could write. Returns the ledger file."""
    from provenance.ledger.store import sqlite_file
    from tests.show_ledger import make_ledger

    db = sqlite_file(make_ledger(config_file))
    assert db is not None, f"not a SQLite ledger: {config_file}"
    db.parent.chmod(0o755)
    for p in (db.parent, *db.parent.iterdir()):
        os.chown(p, uid, gid)
    return db


@pytest.fixture
def unprivileged() -> Iterator[Unprivileged]:
    if os.geteuid() != 0 or shutil.which("setpriv") is None:
        pytest.skip("needs root and setpriv to run a command as an unprivileged user")
    try:
        pwd.getpwnam("nobody")
    except KeyError:
        pytest.skip("no 'nobody' user")
    home = Path(tempfile.mkdtemp(prefix="provenance-unpriv-", dir="/tmp"))
    # Theirs, not world-writable: a config under a folder anyone may write is refused by the gate.
    nobody = pwd.getpwnam("nobody")
    os.chown(home, nobody.pw_uid, nobody.pw_gid)
    home.chmod(0o755)
    who = Unprivileged("nobody", home)
    try:
        if who.run([PYTHON, "-c", "import provenance"], cwd=home).returncode != 0:
            pytest.skip("'nobody' cannot run the test venv")
        yield who
    finally:
        for folder, dirs, _ in os.walk(home):  # let root remove what a test locked away
            for d in dirs:
                os.chmod(os.path.join(folder, d), 0o755)
        shutil.rmtree(home, ignore_errors=True)
