"""Zero false passes: every way to fake, reuse or stretch an approval is blocked, with its reason.

Each test starts from a generated asset in the package and something that looks like an
approval for it; the gate must exit 1 and the asset's reasons must say exactly what is wrong.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from provenance.approvals import dsse, write_portable
from provenance.approvals.keys import key_id, load_private
from provenance.approvals.statement import ApprovalStatement
from provenance.identify import sha256_file
from provenance.model import Scope
from tests.gate.conftest import Show, ai_png, asset

NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)


def statement(asset_path: Path, scopes: tuple[str, ...], *, kid: str, approver: str = "Legal",
              sha: str | None = None) -> ApprovalStatement:
    return ApprovalStatement(subject_name=asset_path.name, subject_sha256=sha or sha256_file(asset_path),
                             approver=approver, email="legal@studio.example", key_id=kid, scopes=scopes,
                             reference="LEGAL-9", issued_at=NOW - dt.timedelta(minutes=5), expires_at=None,
                             note="", policy_version="1")


def blocked_because(show: Show, capsys: pytest.CaptureFixture[str], name: str, *needles: str) -> list[str]:
    rc, report, err = show.gate(show.pkg, capsys=capsys)
    entry = asset(report, name)
    assert rc == 1 and report["result"] == "blocked", err
    assert entry["status"] == "blocked", entry
    text = "\n".join(entry["reasons"])
    for needle in needles:
        assert needle in text, f"{needle!r} not in reasons:\n{text}"
    return entry["reasons"]


@pytest.fixture
def gen(show: Show) -> Path:
    show.add_approver("Legal", {Scope.FINAL_DELIVERABLE})
    return ai_png(show.pkg / "gen.png")


def test_forged_approval_unknown_key(show: Show, gen: Path, capsys: pytest.CaptureFixture[str]) -> None:
    mallory = Ed25519PrivateKey.generate()
    kid = key_id(mallory.public_key())
    st = statement(gen, ("final-deliverable",), kid=kid)
    write_portable(gen, dsse.sign(mallory, st.payload(), kid), sha256_file(gen), show.config)
    blocked_because(show, capsys, "gen.png", "approval rejected", "not signed by any known approver")


def test_forged_under_a_real_approvers_key_id(show: Show, gen: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    mallory = Ed25519PrivateKey.generate()
    real_kid = show.registry().get("Legal").key_id  # type: ignore[union-attr]
    st = statement(gen, ("final-deliverable",), kid=real_kid)
    write_portable(gen, dsse.sign(mallory, st.payload(), real_kid), sha256_file(gen), show.config)
    blocked_because(show, capsys, "gen.png", "signature does not match")


def test_edited_approval_file(show: Show, gen: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # A real approval whose signed content is then changed by hand (here: the ticket reference).
    file = show.approve(gen, "Legal", {Scope.FINAL_DELIVERABLE}, ref="LEGAL-1")
    doc = json.loads(file.read_text())
    env = doc["approvals"][0]
    payload = json.loads(base64.b64decode(env["payload"]))
    payload["predicate"]["reference"] = "LEGAL-1-EXTENDED"
    env["payload"] = base64.b64encode(json.dumps(payload).encode()).decode()
    file.write_text(json.dumps(doc))
    blocked_because(show, capsys, "gen.png", "signature does not match the content")


def test_approval_for_another_hash(show: Show, gen: Path, capsys: pytest.CaptureFixture[str]) -> None:
    other = ai_png(show.root / "elsewhere" / "other.png", seed=99)
    key = load_private(show.keys["Legal"])
    kid = show.registry().get("Legal").key_id  # type: ignore[union-attr]
    st = statement(gen, ("final-deliverable",), kid=kid, sha=sha256_file(other))
    write_portable(gen, dsse.sign(key, st.payload(), kid), sha256_file(other), show.config)
    blocked_because(show, capsys, "gen.png", f"is for sha256 {sha256_file(other)[:12]}",
                    f"the file is now {sha256_file(gen)[:12]}")


def test_approval_copied_from_another_file(show: Show, gen: Path, capsys: pytest.CaptureFixture[str]) -> None:
    other = ai_png(show.pkg / "approved_other.png", seed=42)
    other_file = show.approve(other, "Legal", {Scope.FINAL_DELIVERABLE})
    (show.pkg / "gen.png.approval.json").write_bytes(other_file.read_bytes())
    blocked_because(show, capsys, "gen.png", f"is for sha256 {sha256_file(other)[:12]}",
                    f"the file is now {sha256_file(gen)[:12]}")


def test_changed_byte_after_approval(show: Show, gen: Path, capsys: pytest.CaptureFixture[str]) -> None:
    show.approve(gen, "Legal", {Scope.FINAL_DELIVERABLE})
    with open(gen, "ab") as fh:
        fh.write(b"\0")
    blocked_because(show, capsys, "gen.png", "the file is now")


def test_expired_approval(show: Show, gen: Path, capsys: pytest.CaptureFixture[str]) -> None:
    past = NOW - dt.timedelta(days=30)
    show.approve(gen, "Legal", {Scope.FINAL_DELIVERABLE}, now=past, expires_at=past + dt.timedelta(days=1))
    blocked_because(show, capsys, "gen.png", "expired on")


def test_revoked_approver(show: Show, gen: Path, capsys: pytest.CaptureFixture[str]) -> None:
    show.approve(gen, "Legal", {Scope.FINAL_DELIVERABLE})
    show.revoke("Legal")
    blocked_because(show, capsys, "gen.png", "approver Legal was revoked")


def test_scope_the_approver_may_not_grant(show: Show, capsys: pytest.CaptureFixture[str]) -> None:
    show.add_approver("Producer", {Scope.PERSONAL_DATA})
    gen = ai_png(show.pkg / "gen.png")
    key = load_private(show.keys["Producer"])
    kid = show.registry().get("Producer").key_id  # type: ignore[union-attr]
    st = statement(gen, ("final-deliverable",), kid=kid, approver="Producer")
    write_portable(gen, dsse.sign(key, st.payload(), kid), sha256_file(gen), show.config)
    blocked_because(show, capsys, "gen.png", "Producer may not grant scope final-deliverable")


def test_valid_approval_with_the_wrong_scope_still_blocks(show: Show,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    show.add_approver("Privacy", {Scope.PERSONAL_DATA})
    gen = ai_png(show.pkg / "gen.png")
    show.approve(gen, "Privacy", {Scope.PERSONAL_DATA})
    blocked_because(show, capsys, "gen.png", "temporary-material", "'final-deliverable'")
