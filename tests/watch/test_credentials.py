"""A ledger URL with a password never shows it: not in the daemon's log, its status file, nor
in what `status` and `findings` print — against a real PostgreSQL, as real processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from provenance.config import load_config
from provenance.ledger import redacted
from provenance.watch.daemon import status_path
from tests.pg import PostgresServer
from tests.watch.conftest import png_bytes, wait_for, write_show
from tests.watch.test_process import Proc, status, wait_running

SECRET = "s3cret-Pw0rd"


@pytest.mark.postgres
@pytest.mark.parametrize("form", ["userinfo", "query"])
def test_a_ledger_password_appears_in_no_output(tmp_path: Path, postgres_server: PostgresServer,
                                                form: str) -> None:
    plain = postgres_server.create_database(f"cred_{form}")
    # the test server trusts local connections: the password is accepted and ignored
    url = (plain.replace("postgres@", f"postgres:{SECRET}@") if form == "userinfo"
           else f"{plain}?password={SECRET}")
    assert SECRET in url and SECRET not in redacted(url)
    show = tmp_path / "show"
    cfg = write_show(show, extra=f'[ledger]\nurl = "{url}"\n')
    log = tmp_path / "daemon.log"
    proc = Proc(["watch", str(cfg)], log)
    try:
        wait_running(show, proc)
        (show / "final" / "gen.png").write_bytes(png_bytes(3, ai=True))
        wait_for(lambda: (status(show).get("open_findings") or 0) >= 1, 60, "the finding")
        outputs = [subprocess.run([sys.executable, "-m", "provenance", *args, "--config", str(cfg)],
                                  capture_output=True, text=True, timeout=120)
                   for args in (["status"], ["status", "--json"], ["findings"], ["findings", "--json"])]
        # A second daemon for the show from another host: refused by the ledger's advisory lock,
        # naming the ledger it shares (masked).
        second = subprocess.run([sys.executable, "-m", "provenance", "watch", str(cfg)], capture_output=True,
                                text=True, timeout=120,
                                env={**os.environ, "PROVENANCE_STATE_DIR": str(tmp_path / "other-host")})
    finally:
        assert proc.close() == 0
    assert outputs[0].returncode == 0, outputs[0].stdout + outputs[0].stderr  # it did use the ledger
    assert "gen.png" in outputs[2].stdout
    texts = {"daemon log": log.read_text(), "status.json": status_path(load_config(cfg)).read_text(),
             **{f"output {i}": o.stdout + o.stderr for i, o in enumerate(outputs)},
             "second daemon": second.stdout + second.stderr}
    assert second.returncode == 3 and "another watch daemon already runs" in second.stderr
    leaked = [name for name, text in texts.items() if SECRET in text]
    assert leaked == [], leaked
    ledger = json.loads(texts["status.json"])["ledger"]  # still says which ledger, masked
    assert ledger.startswith("postgresql+psycopg://postgres") and ("***" in ledger or "%2A%2A%2A" in ledger)


def test_an_unparsable_url_is_not_echoed() -> None:
    assert redacted("postgresql://u:pw@[broken") in ("<not a database URL>", "postgresql://u:***@[broken")
