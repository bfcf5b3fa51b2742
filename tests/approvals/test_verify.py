"""verify_approval: the round trip, and each way an approval must be refused, with its reason."""

from __future__ import annotations

import base64
import copy
import datetime as dt
import json
from pathlib import Path

import pytest

from provenance.approvals import sign_approval, verify_approval
from provenance.approvals.keys import load_public
from provenance.errors import ApprovalError
from provenance.identify import sha256_file
from provenance.model import Scope
from tests.approvals.conftest import NOW, unsigned_registry


def _sign(person, registry, asset: Path, scopes=(Scope.FINAL_DELIVERABLE,), **kw):
    envelope, _ = sign_approval(person.key, registry, subject_name=asset.name, sha256=sha256_file(asset),
                                scopes=scopes, reference="LEGAL-42", now=kw.pop("now", NOW), **kw)
    return envelope


def _reason(envelope, sha: str, registry, now=NOW) -> str:
    with pytest.raises(ApprovalError) as info:
        verify_approval(envelope, sha, registry, now)
    return info.value.reason


def test_round_trip_returns_what_was_signed(doe, registry, asset):
    envelope = _sign(doe, registry, asset, scopes=(Scope.FINAL_DELIVERABLE, Scope.TALENT_LIKENESS),
                     note="hero shot", expires_at=NOW + dt.timedelta(days=30))
    v = verify_approval(json.loads(json.dumps(envelope)), sha256_file(asset), registry, NOW)
    assert v.approver == "J. Doe" and v.email == "jdoe@studio.example"
    assert v.scopes == {Scope.FINAL_DELIVERABLE, Scope.TALENT_LIKENESS}
    assert (v.reference, v.note, v.subject_name) == ("LEGAL-42", "hero shot", "shot_010.png")
    assert v.subject_sha256 == sha256_file(asset)
    assert v.issued_at == NOW and v.expires_at == NOW + dt.timedelta(days=30)
    assert v.key_id == registry.get("J. Doe").key_id
    assert envelope["payloadType"] == "application/vnd.in-toto+json"
    statement = json.loads(base64.b64decode(envelope["payload"]))
    assert statement["_type"] == "https://in-toto.io/Statement/v1"
    assert statement["subject"] == [{"name": "shot_010.png", "digest": {"sha256": sha256_file(asset)}}]


def test_forged_approval_with_unknown_key_is_refused(doe, registry, asset, make_person):
    mallory = make_person("Mallory")
    # Mallory's own registry lets her sign; the production's registry does not know her key.
    own = unsigned_registry(asset.parent / "mallory.toml", (mallory, frozenset(Scope)))
    forged = _sign(mallory, own, asset)
    assert "not signed by any known approver" in _reason(forged, sha256_file(asset), registry)


def test_edited_approval_file_is_refused(doe, registry, asset):
    envelope = _sign(doe, registry, asset)
    statement = json.loads(base64.b64decode(envelope["payload"]))
    statement["predicate"]["scopes"] = ["final-deliverable", "talent-likeness"]
    statement["predicate"]["reference"] = "LEGAL-99"
    edited = {**envelope, "payload": base64.b64encode(json.dumps(statement).encode()).decode()}
    reason = _reason(edited, sha256_file(asset), registry)
    assert "altered after it was signed" in reason


def test_edited_payload_type_is_refused(doe, registry, asset):
    envelope = _sign(doe, registry, asset)
    assert "payloadType" in _reason({**envelope, "payloadType": "application/json"}, sha256_file(asset),
                                    registry)


def test_approval_for_another_hash_names_both_hashes(doe, registry, asset):
    envelope = _sign(doe, registry, asset)
    other = "9c07" + "0" * 60
    reason = _reason(envelope, other, registry)
    assert reason == (f"approval by J. Doe on 2026-11-02 is for sha256 {sha256_file(asset)[:12]}…; "
                      f"the file is now {other[:12]}…")


def test_one_byte_change_to_the_asset_invalidates_it(doe, registry, asset):
    envelope = _sign(doe, registry, asset)
    verify_approval(envelope, sha256_file(asset), registry, NOW)
    data = bytearray(asset.read_bytes())
    data[100] ^= 1
    asset.write_bytes(bytes(data))
    assert "the file is now" in _reason(envelope, sha256_file(asset), registry)


def test_approval_copied_from_another_file_is_refused(doe, registry, asset):
    other = asset.with_name("shot_020.png")
    other.write_bytes(b"\x89PNG\r\n\x1a\n other bytes")
    envelope = _sign(doe, registry, asset)  # approves shot_010, then copied beside shot_020
    reason = _reason(envelope, sha256_file(other), registry)
    assert f"is for sha256 {sha256_file(asset)[:12]}…" in reason


def test_expired_approval_is_refused(doe, registry, asset):
    envelope = _sign(doe, registry, asset, expires_at=NOW + dt.timedelta(days=1))
    verify_approval(envelope, sha256_file(asset), registry, NOW + dt.timedelta(hours=23))
    reason = _reason(envelope, sha256_file(asset), registry, NOW + dt.timedelta(days=1))
    assert "expired on 2026-11-03" in reason and "authority" not in reason


def test_expired_approver_is_refused(doe, registry, asset):
    envelope = _sign(doe, registry, asset)
    reason = _reason(envelope, sha256_file(asset), registry, dt.datetime(2028, 1, 1, tzinfo=dt.UTC))
    assert "J. Doe's authority expired on 2028-01-01" in reason


def test_revoked_approver_is_refused(doe, registry, asset, admin):
    envelope = _sign(doe, registry, asset)
    revoked = registry.revoke("J. Doe", now=NOW, admin=[admin.key])
    assert "approver J. Doe was revoked" in _reason(envelope, sha256_file(asset), revoked)


def test_scope_the_approver_may_not_grant_is_refused(doe, registry, asset, tmp_path):
    # Signed while the registry allowed it; the reviewed registry now says otherwise.
    wide = unsigned_registry(tmp_path / "wide.toml", (doe, frozenset(Scope)))
    envelope = _sign(doe, wide, asset, scopes=(Scope.THIRD_PARTY_IP,))
    reason = _reason(envelope, sha256_file(asset), registry)
    assert "may not grant scope third-party-ip" in reason


def test_signing_refuses_a_scope_the_approver_may_not_grant(doe, registry, asset):
    with pytest.raises(ApprovalError, match="may not grant personal-data"):
        _sign(doe, registry, asset, scopes=(Scope.PERSONAL_DATA,))


def test_signing_refuses_an_unregistered_key(make_person, registry, asset):
    with pytest.raises(ApprovalError, match="belongs to no approver"):
        _sign(make_person("Stranger"), registry, asset)


def test_renamed_file_keeps_its_approval_with_a_note(doe, registry, asset):
    envelope = _sign(doe, registry, asset)
    v = verify_approval(envelope, sha256_file(asset), registry, NOW, current_name="renamed.png")
    assert v.notes and "renamed.png" in v.notes[0]


def test_second_signature_is_not_accepted(doe, registry, asset):
    envelope = _sign(doe, registry, asset)
    doubled = copy.deepcopy(envelope)
    doubled["signatures"].append(doubled["signatures"][0])
    assert "exactly one signature" in _reason(doubled, sha256_file(asset), registry)


def test_public_key_file_loads_as_the_same_key(doe):
    pub = load_public(doe.key_file.with_name(doe.key_file.name + ".pub"))
    assert pub == doe.key.public_key()
