"""Tamper evidence: `verify()` and `provenance ledger verify` catch edited, deleted and truncated history."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from sqlalchemy import text

from provenance.cli import main
from provenance.ledger import Ledger
from provenance.ledger.migrations import LATEST
from provenance.model import Zone
from tests.ledger.helpers import ai_verdict, finding, sha


def _fill(ledger: Ledger, n: int = 6) -> None:
    for i in range(n):
        ledger.record_verdict(ai_verdict(f"/show/final/{i}.exr", sha(str(i))), (1, i, 100, 1, 1), Zone.FINAL)


def _sql(ledger: Ledger, statement: str) -> None:
    # Someone with database access, bypassing the Ledger API.
    with ledger.engine.begin() as conn:
        conn.execute(text(statement))


def test_untouched_chain_verifies(ledger: Ledger) -> None:
    _fill(ledger)
    ledger.open_finding(finding("/show/final/0.exr", sha("0")))
    report = ledger.verify()
    assert (report.ok, report.rows, report.first_bad, report.reason) == (True, 7, None, None)


def test_edited_payload_is_caught(ledger: Ledger) -> None:
    _fill(ledger)
    # Launder the evidence: claim event 3 was never AI.
    _sql(ledger, "UPDATE events SET path = '/show/final/innocent.exr' WHERE id = 3")
    report = ledger.verify()
    assert not report.ok and report.first_bad == 3 and "edited" in (report.reason or "")


def test_edit_with_recomputed_row_hash_is_caught_at_the_next_row(ledger: Ledger) -> None:
    from provenance.ledger import chain

    _fill(ledger)
    with ledger.engine.begin() as conn:
        row = conn.execute(text("SELECT id, at, kind, host, sha256, path, payload, prev_hash "
                                "FROM events WHERE id = 2")).mappings().one()
        content = dict(row)
        payload = content["payload"]
        content["payload"] = json.loads(payload) if isinstance(payload, str) else payload
        content["path"] = "/show/final/innocent.exr"
        forged = chain.row_hash(content.pop("prev_hash"), content)
        conn.execute(text("UPDATE events SET path = :p, row_hash = :h WHERE id = 2"),
                     {"p": "/show/final/innocent.exr", "h": forged})
    report = ledger.verify()
    assert not report.ok and report.first_bad == 3 and "prev_hash" in (report.reason or "")


def test_deleted_row_is_caught(ledger: Ledger) -> None:
    _fill(ledger)
    _sql(ledger, "DELETE FROM events WHERE id = 4")
    report = ledger.verify()
    assert not report.ok and report.first_bad == 4 and "missing" in (report.reason or "")


def test_deleted_first_row_is_caught(ledger: Ledger) -> None:
    _fill(ledger)
    _sql(ledger, "DELETE FROM events WHERE id = 1")
    report = ledger.verify()
    assert not report.ok and report.first_bad == 1


def test_truncated_tail_is_caught(ledger: Ledger) -> None:
    _fill(ledger)
    _sql(ledger, "DELETE FROM events WHERE id >= 5")
    report = ledger.verify()
    assert not report.ok and report.first_bad == 5 and "truncated" in (report.reason or "")


def test_appending_after_verify_keeps_the_chain(ledger_url: str) -> None:
    with Ledger.open(ledger_url) as ledger:
        _fill(ledger, 3)
    with Ledger.open(ledger_url) as ledger:  # the head survives a re-open
        _fill(ledger, 5)
        assert ledger.verify().ok and ledger.verify().rows == 5


# -- the command -----------------------------------------------------------------------

def test_cli_verify_exit_codes(ledger_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    with Ledger.open(ledger_url) as ledger:
        _fill(ledger)
    assert main(["ledger", "verify", "--url", ledger_url]) == 0
    assert "6 events verify" in capsys.readouterr().out
    with Ledger.open(ledger_url) as ledger:
        _sql(ledger, "UPDATE events SET kind = 'removed' WHERE id = 2")
    assert main(["ledger", "verify", "--json", "--url", ledger_url]) == 1
    out = json.loads(capsys.readouterr().out)
    assert (out["ok"], out["first_bad"]) == (False, 2)
    assert main(["ledger", "verify", "--url", ledger_url]) == 1
    assert "first bad event: 2" in capsys.readouterr().out  # the result, on stdout


def test_cli_verify_uses_the_configured_ledger(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    show = tmp_path / "show"
    show.mkdir()
    (show / "provenance.toml").write_text('[ledger]\nurl = "sqlite:///state/ledger.db"\n')
    with Ledger.open(f"sqlite:///{show / 'state' / 'ledger.db'}") as ledger:
        _fill(ledger, 2)
    assert main(["ledger", "verify", "--config", str(show / "provenance.toml")]) == 0
    assert "2 events verify" in capsys.readouterr().out
    assert main(["ledger", "info", "--json", "--config", str(show / "provenance.toml")]) == 0
    info = json.loads(capsys.readouterr().out)
    assert (info["events"], info["backend"], info["schema_version"]) == (2, "sqlite", LATEST)


def test_cli_verify_unreachable_ledger_is_exit_3(tmp_path: Path) -> None:
    # a deleted SQLite ledger must not "verify" as a fresh empty one
    missing = tmp_path / "gone" / "ledger.db"
    assert main(["ledger", "verify", "--url", f"sqlite:///{missing}"]) == 3
    assert not missing.exists()
    # nothing listens on this port
    assert main(["ledger", "verify", "--url", "postgresql+psycopg://nobody@127.0.0.1:9/none"]) == 3


def test_cli_verify_empty_postgres_database_is_exit_3(fresh_postgres_url: str) -> None:
    assert main(["ledger", "verify", "--url", fresh_postgres_url]) == 3


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_cli_verify_unreadable_sqlite_is_exit_3(tmp_path: Path) -> None:
    db = tmp_path / "ledger.db"
    with Ledger.open(f"sqlite:///{db}") as ledger:
        _fill(ledger, 1)
    db.chmod(0)
    assert main(["ledger", "verify", "--url", f"sqlite:///{db}"]) == 3
