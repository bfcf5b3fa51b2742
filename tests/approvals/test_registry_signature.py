"""The signed registry's envelope and the host's trust file, each way they can be wrong."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from provenance.approvals import ApproverRegistry, registry_signature
from provenance.approvals.keys import load_private, new_keypair
from provenance.approvals.trust import load_trust
from provenance.errors import TrustError
from provenance.model import Scope
from tests.conftest import Admin


def _two_admin_trust(tmp_path: Path, admin: Admin) -> tuple[Path, Ed25519PrivateKey]:
    second = tmp_path / "etc" / "second.key"
    new_keypair(second)
    trust = tmp_path / "etc" / "trust.toml"
    trust.write_text(f'admin_keys = ["{admin.key_file}.pub", "second.key.pub"]\nthreshold = 2\n')
    return trust, load_private(second)


def test_one_admin_signing_twice_is_still_one_signature(tmp_path: Path, admin: Admin) -> None:
    trust_file, _ = _two_admin_trust(tmp_path, admin)
    envelope = registry_signature.sign(b'show = "s"\nversion = 1\n', [admin.key])
    envelope["signatures"] = envelope["signatures"] * 2  # the same admin's signature, twice
    with pytest.raises(TrustError, match="signed by 1 admin key"):
        registry_signature.verify(envelope, load_trust(trust_file), tmp_path / "x.sig")


def test_two_admins_meet_a_threshold_of_two(tmp_path: Path, admin: Admin) -> None:
    trust_file, second = _two_admin_trust(tmp_path, admin)
    payload = b'show = "s"\nversion = 1\n'
    envelope = registry_signature.sign(payload, [admin.key, second])
    assert registry_signature.verify(envelope, load_trust(trust_file), tmp_path / "x.sig")[0] == payload


@pytest.mark.parametrize(("mutate", "message"), [
    (lambda e: e.update(payloadType="application/vnd.in-toto+json"), "wrong payloadType"),
    (lambda e: e.update(signatures=[]), "expected 1 to 16 signatures"),
    (lambda e: e["signatures"][0].update(sig=5), "not a base64 string"),
    (lambda e: e["signatures"][0].update(keyid=""), None),  # keyid is only a hint: still verifies
])
def test_malformed_envelopes_are_refused(tmp_path: Path, admin: Admin, mutate, message: str | None) -> None:
    envelope = registry_signature.sign(b'show = "s"\nversion = 1\n', [admin.key])
    mutate(envelope)
    trust = load_trust(admin.trust_file)
    if message is None:
        registry_signature.verify(envelope, trust, tmp_path / "x.sig")
        return
    with pytest.raises(TrustError, match=message):
        registry_signature.verify(envelope, trust, tmp_path / "x.sig")


def test_a_signature_file_that_is_not_json_is_refused(tmp_path: Path, admin: Admin) -> None:
    registry = admin.registry(tmp_path / "approvers.toml")
    registry_signature.signature_path(registry.path).write_text("{not json")
    with pytest.raises(TrustError, match="malformed signature file"):
        ApproverRegistry.from_file(registry.path)


def test_the_payload_is_what_counts_not_a_second_copy(tmp_path: Path, admin: Admin) -> None:
    """An envelope whose payload was swapped (the admin's signature kept) does not verify."""
    registry = admin.registry(tmp_path / "approvers.toml")
    sig = registry_signature.signature_path(registry.path)
    envelope = json.loads(sig.read_text())
    envelope["payload"] = base64.b64encode(b'show = "show"\nversion = 50\n').decode()
    sig.write_text(json.dumps(envelope))
    with pytest.raises(TrustError, match="does not verify"):
        ApproverRegistry.from_file(registry.path)


@pytest.mark.parametrize(("text", "message"), [
    ("admin_keys = []\n", "admin_keys"),
    ('admin_keys = ["k.pub"]\nthreshold = 0\n', "threshold"),
    ('admin_keys = ["k.pub"]\nthreshhold = 1\n', "threshhold"),
    ('admin_keys = ["k.pub"]\nthreshold = 2\n', "needs more admin keys"),
    ('admin_keys = ["missing.pub"]\n', "cannot read public key"),
    ("admin_keys = [\n", "invalid TOML"),
])
def test_a_bad_trust_file_is_refused_with_the_reason(tmp_path: Path, admin: Admin, text: str,
                                                     message: str) -> None:
    (tmp_path / "k.pub").write_bytes(Path(f"{admin.key_file}.pub").read_bytes())
    trust = tmp_path / "trust.toml"
    trust.write_text(text)
    with pytest.raises(TrustError, match=message):
        load_trust(trust)


def test_a_private_key_given_as_an_admin_key_is_refused(tmp_path: Path, admin: Admin) -> None:
    trust = tmp_path / "trust.toml"
    trust.write_text(f'admin_keys = ["{admin.key_file}"]\n')
    with pytest.raises(TrustError, match="this is a private key"):
        load_trust(trust)


def test_the_rollback_memory_is_per_show(tmp_path: Path, admin: Admin) -> None:
    """Two shows on one host: each show's versions are remembered on their own."""
    a = admin.registry(tmp_path / "a" / "approvers.toml", show="A")
    for _ in range(3):
        a = a.add(f"p{a.version}", "p@x", Ed25519PrivateKey.generate().public_key(),
                  frozenset({Scope.FINAL_DELIVERABLE}), admin=[admin.key])
    b = admin.registry(tmp_path / "b" / "approvers.toml", show="B")
    assert (a.version, b.version) == (4, 1)
    assert ApproverRegistry.from_file(b.path).version == 1  # B's version 1 is not a rollback of A's 4
