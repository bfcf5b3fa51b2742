"""The approver CLI end to end through provenance.cli.main: keys, approvers, approve."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from provenance.approvals import ApproverRegistry, find_approvals
from provenance.config import load_config
from provenance.identify import sha256_file
from provenance.ledger import Ledger
from provenance.model import Classification, Finding, Scope
from tests.approvals.conftest import ensure_registry, run
from tests.conftest import Admin


@pytest.fixture
def show(tmp_path: Path) -> Path:
    (tmp_path / "provenance.toml").write_text('[ledger]\nurl = "sqlite:///ledger.db"\n')
    (tmp_path / "final").mkdir()
    return tmp_path


def _key(show: Path, capsys, name: str = "doe") -> Path:
    key = show / "keys" / name
    code, _, _ = run(capsys, "keys", "new", "--out", str(key))
    assert code == 0
    return key


def test_keys_new_writes_0600_and_never_prints_the_private_key(tmp_path, capsys):
    key = tmp_path / "k" / "approver"
    code, out, err = run(capsys, "keys", "new", "--out", str(key), "--json")
    assert code == 0
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert key.with_name("approver.pub").read_text().startswith("-----BEGIN PUBLIC KEY-----")
    private = key.read_text()
    body = "".join(private.strip().splitlines()[1:-1])
    assert "PRIVATE" not in out + err and body not in out + err and body[:20] not in out + err
    assert json.loads(out)["public_key"] == str(key) + ".pub"
    # An existing key is never silently replaced: a usage error (--force would do it).
    assert run(capsys, "keys", "new", "--out", str(key))[0] == 2
    assert key.read_text() == private


def test_approvers_add_list_revoke(show, capsys, admin):
    key = _key(show, capsys)
    cfg = str(show / "provenance.toml")
    ensure_registry(capsys, admin, cfg)
    signed_by = ("--admin-key", str(admin.key_file))
    code, _, err = run(capsys, "approvers", "add", "J. Doe", "--email", "jdoe@studio.example",
                       "--public-key", str(key) + ".pub", "--scopes", "final-deliverable,talent-likeness",
                       "--expires", "2027-06-30", *signed_by, "--config", cfg)
    assert code == 0, err
    text = (show / ".provenance" / "approvers.toml").read_text()
    assert "expires = 2027-06-30" in text and "BEGIN PUBLIC KEY" in text

    code, out, _ = run(capsys, "approvers", "list", "--json", "--config", cfg)
    listed = json.loads(out)["approvers"]
    assert [(a["name"], a["scopes"], a["revoked"]) for a in listed] == \
        [("J. Doe", ["final-deliverable", "talent-likeness"], False)]
    assert listed[0]["expires"] == "2027-07-01T00:00:00Z"  # valid through the 30th, UTC

    # Same key under a second name, and an unknown scope, are refused.
    assert run(capsys, "approvers", "add", "Other", "--email", "o@x", "--public-key", str(key) + ".pub",
               "--scopes", "final-deliverable", *signed_by, "--config", cfg)[0] == 3
    assert run(capsys, "approvers", "add", "Other", "--email", "o@x", "--public-key", str(key) + ".pub",
               "--scopes", "everything", *signed_by, "--config", cfg)[0] == 2

    # A comment added by the admin (and signed) survives the next signed edit.
    registry = ApproverRegistry.load(load_config(cfg))
    registry._signed(registry.source.replace("# Review", "# kept comment\n# Review"), [admin.key], None)
    assert run(capsys, "approvers", "revoke", "J. Doe", *signed_by, "--config", cfg)[0] == 0
    after = (show / ".provenance" / "approvers.toml").read_text()
    assert "# kept comment" in after  # a revocation edits text, it does not rewrite the file
    code, out, _ = run(capsys, "approvers", "list", "--json", "--config", cfg)
    assert json.loads(out)["approvers"][0]["revoked"] is True
    code, out, _ = run(capsys, "approvers", "list", "--config", cfg)
    assert "revoked" in out


def _add(show: Path, capsys, admin: Admin, key: Path, name: str, scopes: str) -> None:
    ensure_registry(capsys, admin, show / "provenance.toml")
    code, _, err = run(capsys, "approvers", "add", name, "--email", f"{name}@studio.example", "--public-key",
                       str(key) + ".pub", "--scopes", scopes, "--admin-key", str(admin.key_file),
                       "--config", str(show / "provenance.toml"))
    assert code == 0, err


def _finding(asset: Path, rule: str, scope: Scope) -> Finding:
    return Finding(rule=rule, principle="p", path=str(asset), sha256=sha256_file(asset),
                   classification=Classification.AI_GENERATED, message=f"needs {scope}",
                   clears_with=(scope,))


def test_approve_writes_portable_file_ledger_record_and_clears_the_finding(show, capsys, admin):
    key = _key(show, capsys)
    _add(show, capsys, admin, key, "doe", "final-deliverable")
    asset = show / "final" / "shot.png"
    asset.write_bytes(b"\x89PNG\r\n\x1a\nAI pixels")
    sha = sha256_file(asset)
    config = load_config(show / "provenance.toml")
    with Ledger.open(config.effective_ledger_url) as ledger:
        ledger.open_finding(_finding(asset, "temporary-material", Scope.FINAL_DELIVERABLE))
        ledger.open_finding(_finding(asset, "declared-risk", Scope.TALENT_LIKENESS))

    code, out, err = run(capsys, "approve", str(asset), "--scope", "final-deliverable", "--ref", "LEGAL-7",
                         "--key", str(key), "--json", "--config", str(show / "provenance.toml"))
    assert code == 0, err
    [result] = json.loads(out)["results"]
    assert result["findings_cleared"] == [{"rule": "temporary-material", "path": str(asset)}]
    portable = show / "final" / "shot.png.approval.json"
    assert result["portable"] == str(portable)
    assert "PRIVATE" not in out + err

    with Ledger.open(config.effective_ledger_url) as ledger:
        assert len(ledger.approvals_for(sha)) == 1
        assert [f.rule for f in ledger.open_findings()] == ["declared-risk"]  # talent-likeness still owed
        valid, reasons = find_approvals(asset, sha, config, ledger)
    assert [v.approver for v in valid] == ["doe"] and reasons == []
    # The portable file alone verifies (a transfer host without the ledger).
    valid, reasons = find_approvals(asset, sha, config, None)
    assert [v.reference for v in valid] == ["LEGAL-7"] and reasons == []
    assert json.loads(portable.read_text())["approvals"][0] == json.loads(
        json.dumps(Ledger.open(config.effective_ledger_url).approvals_for(sha)[0]))


def test_approve_refuses_a_scope_the_key_may_not_grant_and_writes_nothing(show, capsys, admin):
    key = _key(show, capsys)
    _add(show, capsys, admin, key, "doe", "final-deliverable")
    asset = show / "final" / "shot.png"
    asset.write_bytes(b"bytes")
    code, _, err = run(capsys, "approve", str(asset), "--scope", "third-party-ip", "--ref", "R",
                       "--key", str(key), "--config", str(show / "provenance.toml"))
    assert code == 3 and "may not grant third-party-ip" in err  # could not approve, like a bad key
    assert not (show / "final" / "shot.png.approval.json").exists()


def test_approve_with_an_unregistered_key_is_refused(show, capsys):
    key = _key(show, capsys)
    asset = show / "final" / "shot.png"
    asset.write_bytes(b"bytes")
    code, _, err = run(capsys, "approve", str(asset), "--scope", "final-deliverable", "--ref", "R",
                       "--key", str(key), "--config", str(show / "provenance.toml"))
    assert code == 3 and "belongs to no approver" in err


def test_changed_file_loses_its_portable_approval_with_the_reason(show, capsys, admin):
    key = _key(show, capsys)
    _add(show, capsys, admin, key, "doe", "final-deliverable")
    asset = show / "final" / "shot.png"
    asset.write_bytes(b"\x89PNG\r\n\x1a\nAI pixels")
    cfg = str(show / "provenance.toml")
    assert run(capsys, "approve", str(asset), "--scope", "final-deliverable", "--ref", "R", "--key", str(key),
               "--config", cfg)[0] == 0
    old = sha256_file(asset)
    asset.write_bytes(asset.read_bytes() + b"\x00")
    config = load_config(cfg)
    valid, reasons = find_approvals(asset, sha256_file(asset), config, None)
    assert valid == []
    assert len(reasons) == 1
    assert f"is for sha256 {old[:12]}…; the file is now {sha256_file(asset)[:12]}…" in reasons[0]
    assert reasons[0].startswith("final/shot.png.approval.json: approval by doe on ")
    # A copy of the approval beside another file is refused for the same reason.
    other = show / "final" / "other.png"
    other.write_bytes(b"other")
    copied = (show / "final/shot.png.approval.json").read_bytes()
    (show / "final" / "other.png.approval.json").write_bytes(copied)
    registry = ApproverRegistry.load(config)
    valid, reasons = find_approvals(other, sha256_file(other), config, None, registry=registry)
    assert valid == [] and f"is for sha256 {old[:12]}…" in reasons[0]
