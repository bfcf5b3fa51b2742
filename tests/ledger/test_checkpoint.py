"""Signed checkpoints catch what the hash chain alone cannot: a rewrite of history by someone
who also recomputed every hash after the row they changed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import text

from provenance.approvals.keys import new_keypair
from provenance.cli import main
from provenance.ledger import Ledger, chain
from provenance.model import Zone
from tests.ledger.helpers import ai_verdict, sha


def _fill(ledger: Ledger, start: int, n: int) -> None:
    for i in range(start, start + n):
        ledger.record_verdict(ai_verdict(f"/show/final/{i}.exr", sha(str(i))), (1, i, 100, 1, 1), Zone.FINAL)


def _rewrite_from(ledger: Ledger, event_id: int, new_path: str) -> None:
    """What a database administrator can do: change an event, then recompute every hash after
    it and move the head, so that the chain verifies again."""
    with ledger.engine.begin() as conn:
        rows = conn.execute(text("SELECT id, at, kind, host, sha256, path, payload, prev_hash FROM events "
                                 "WHERE id >= :i ORDER BY id"), {"i": event_id}).mappings().all()
        prev = rows[0]["prev_hash"]
        for row in rows:
            content = {k: row[k] for k in ("id", "at", "kind", "host", "sha256", "path", "payload")}
            if isinstance(content["payload"], str):
                content["payload"] = json.loads(content["payload"])
            if row["id"] == event_id:
                content["path"] = new_path
            digest = chain.row_hash(prev, content)
            conn.execute(text("UPDATE events SET path = :p, prev_hash = :ph, row_hash = :h WHERE id = :i"),
                         {"p": content["path"], "ph": prev, "h": digest, "i": row["id"]})
            prev = digest
        conn.execute(text("UPDATE chain_head SET last_hash = :h WHERE id = 1"), {"h": prev})


Capsys = pytest.CaptureFixture[str]
Signer = tuple[Path, Path]


def _verify_cli(url: str, cp: Path, pub: Path, *extra: str) -> int:
    return main(["ledger", "verify", *extra, "--url", url, "--checkpoint", str(cp), "--public-key", str(pub)])


def _verify(url: str, cp: Path, pub: Path, capsys: Capsys) -> tuple[int, dict]:
    capsys.readouterr()
    rc = _verify_cli(url, cp, pub, "--json")
    return rc, json.loads(capsys.readouterr().out)


@pytest.fixture
def signer(tmp_path: Path) -> tuple[Path, Path]:
    key = tmp_path / "keys" / "checkpoint.key"
    pub, _ = new_keypair(key)
    return key, pub


def test_a_checkpoint_holds_while_history_only_grows(ledger_url: str, signer: Signer,
                                                     tmp_path: Path, capsys: Capsys) -> None:
    key, pub = signer
    with Ledger.open(ledger_url) as ledger:
        _fill(ledger, 0, 5)
    cp = tmp_path / "checkpoints" / "cp1.json"
    cp.parent.mkdir()
    assert main(["ledger", "checkpoint", "--url", ledger_url, "--key", str(key), "--out", str(cp)]) == 0
    envelope = json.loads(cp.read_text())
    assert envelope["payloadType"] == "application/vnd.provenance.ledger-checkpoint+json"
    with Ledger.open(ledger_url) as ledger:
        _fill(ledger, 5, 3)  # legitimate appends after the checkpoint
    rc, out = _verify(ledger_url, cp, pub, capsys)
    assert rc == 0 and out["ok"] and out["rows"] == 8
    assert out["checkpoints"][0]["holds"] and out["checkpoints"][0]["last_id"] == 5


def test_a_rewrite_with_recomputed_hashes_passes_the_chain_but_not_the_checkpoint(
        ledger_url: str, signer: Signer, tmp_path: Path, capsys: Capsys) -> None:
    key, pub = signer
    with Ledger.open(ledger_url) as ledger:
        _fill(ledger, 0, 5)
    cp = tmp_path / "cp.json"
    assert main(["ledger", "checkpoint", "--url", ledger_url, "--key", str(key), "--out", str(cp)]) == 0
    with Ledger.open(ledger_url) as ledger:
        _fill(ledger, 5, 2)
        _rewrite_from(ledger, 2, "/show/final/innocent.exr")  # launder event 2
        assert ledger.verify().ok  # the chain alone is fooled
    rc, out = _verify(ledger_url, cp, pub, capsys)
    assert rc == 1 and not out["ok"]
    reason = out["checkpoints"][0]["reason"]
    assert "event 5 no longer has the hash signed" in reason and "rewritten" in reason
    capsys.readouterr()
    assert _verify_cli(ledger_url, cp, pub) == 1
    assert "TAMPERED" in capsys.readouterr().out  # the result, on stdout


def test_a_truncation_below_the_checkpoint_is_caught(ledger_url: str, signer: Signer, tmp_path: Path,
                                                     capsys: Capsys) -> None:
    key, pub = signer
    with Ledger.open(ledger_url) as ledger:
        _fill(ledger, 0, 6)
    cp = tmp_path / "cp.json"
    assert main(["ledger", "checkpoint", "--url", ledger_url, "--key", str(key), "--out", str(cp)]) == 0
    with Ledger.open(ledger_url) as ledger, ledger.engine.begin() as conn:
        # drop the last three events and move the head back: a consistent, shorter chain
        h = conn.execute(text("SELECT row_hash FROM events WHERE id = 3")).scalar_one()
        conn.execute(text("DELETE FROM locations"))
        conn.execute(text("DELETE FROM events WHERE id > 3"))
        conn.execute(text("UPDATE chain_head SET last_id = 3, last_hash = :h WHERE id = 1"), {"h": h})
    with Ledger.open(ledger_url) as ledger:
        assert ledger.verify().ok
    rc, out = _verify(ledger_url, cp, pub, capsys)
    assert rc == 1 and "is gone (the ledger now ends at event 3)" in out["checkpoints"][0]["reason"]


def test_a_forged_or_foreign_checkpoint_cannot_be_used(ledger_url: str, signer: Signer,
                                                       tmp_path: Path, capsys: Capsys) -> None:
    _, pub = signer
    with Ledger.open(ledger_url) as ledger:
        _fill(ledger, 0, 2)
    other_key = tmp_path / "other.key"
    new_keypair(other_key)
    cp = tmp_path / "cp.json"
    assert main(["ledger", "checkpoint", "--url", ledger_url, "--key", str(other_key), "--out", str(cp)]) == 0
    capsys.readouterr()
    assert _verify_cli(ledger_url, cp, pub) == 3
    assert "signature does not verify" in capsys.readouterr().err
    # an approval envelope is not a checkpoint, even when signed by the right key
    envelope = json.loads(cp.read_text())
    envelope["payloadType"] = "application/vnd.in-toto+json"
    cp.write_text(json.dumps(envelope))
    assert _verify_cli(ledger_url, cp, pub) == 3
    assert "not a ledger checkpoint" in capsys.readouterr().err
    cp.write_text("{not json")
    assert _verify_cli(ledger_url, cp, pub) == 3
    assert "not JSON" in capsys.readouterr().err
    assert main(["ledger", "verify", "--url", ledger_url, "--checkpoint", str(cp)]) == 2  # no key given


def test_no_checkpoint_is_signed_over_a_broken_chain(ledger_url: str, signer: Signer,
                                                     tmp_path: Path) -> None:
    key, _ = signer
    with Ledger.open(ledger_url) as ledger:
        _fill(ledger, 0, 3)
        with ledger.engine.begin() as conn:
            conn.execute(text("UPDATE events SET path = 'x' WHERE id = 2"))
    cp = tmp_path / "cp.json"
    assert main(["ledger", "checkpoint", "--url", ledger_url, "--key", str(key), "--out", str(cp)]) == 3
    assert not cp.exists()
