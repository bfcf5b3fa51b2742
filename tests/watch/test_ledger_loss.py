"""The SQLite ledger deleted or replaced under a running daemon (issue 10 item 14).

SQLite keeps writing into the file it has open: once unlinked, everything recorded afterwards
is lost, while `status` said RUNNING. The daemon must notice (the path's dev/inode against the
file it opened, checked periodically and before each commit), stop with a non-zero exit, log
at ERROR, and leave a status that says why.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.watch.conftest import png_bytes, show_ledger_url, wait_for, write_show
from tests.watch.test_process import Proc, status, wait_running


def _lose(db: Path, how: str, tmp_path: Path) -> None:
    if how == "deleted":
        for f in db.parent.glob("ledger.db*"):
            f.unlink()
    else:  # replaced: e.g. restored from a backup copy over the live file
        copy = tmp_path / "backup.db"
        shutil.copyfile(db, copy)
        copy.replace(db)


@pytest.mark.parametrize("how", ["deleted", "replaced"])
@pytest.mark.parametrize("activity", [True, False], ids=["with-new-files", "idle"])
def test_a_lost_ledger_stops_the_daemon_loudly(tmp_path: Path, exiftool_available: None,
                                               how: str, activity: bool) -> None:
    show = tmp_path / "show"
    write_show(show)
    db = Path(show_ledger_url(show).removeprefix("sqlite:///"))
    log = tmp_path / "daemon.log"
    proc = Proc(["watch", str(show)], log)
    try:
        wait_running(show, proc)
        assert db.is_file()
        _lose(db, how, tmp_path)
        if activity:  # a file that would be recorded into the lost ledger
            (show / "final" / "gen.png").write_bytes(png_bytes(8100, ai=True))
        wait_for(lambda: proc.p.poll() is not None, 60, "the daemon to stop")
    finally:
        proc.close()
    text = log.read_text()
    assert proc.p.returncode == 3, text[-3000:]
    assert "ERROR" in text and "ledger" in text and str(db) in text, text[-3000:]
    snap = status(show)
    assert snap["running"] is False and "ledger" in snap["fatal"]
    run = subprocess.run([sys.executable, "-m", "provenance", "status", "--json", "--config",
                          str(show / "provenance.toml")], capture_output=True, text=True)
    doc = json.loads(run.stdout)
    assert doc["state"] == "failed" and "ledger" in doc["reason"], doc
    assert run.returncode == 3
