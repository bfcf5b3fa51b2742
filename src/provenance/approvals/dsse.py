"""DSSE envelopes (secure-systems-lab/dsse protocol.md), Ed25519 only.

The signature covers PAE(payloadType, payload), so the type is inside the signed bytes
(the fix for type-confusion such as cosign CVE-2022-35929). `keyid` is an unauthenticated
hint for finding the key, never proof of who signed. Shaped after sigstore-python's
`sigstore/dsse` (_pae, _sign, _verify).
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from provenance.errors import ApprovalError

PAYLOAD_TYPE = "application/vnd.in-toto+json"


def pae(payload_type: str, payload: bytes) -> bytes:
    """Pre-Authentication Encoding: "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body."""
    t = payload_type.encode("utf-8")
    return b"DSSEv1 %d %s %d %s" % (len(t), t, len(payload), payload)


def sign(key: Ed25519PrivateKey, payload: bytes, keyid: str, payload_type: str = PAYLOAD_TYPE
         ) -> dict[str, Any]:
    sig = key.sign(pae(payload_type, payload))
    return {
        "payloadType": payload_type,
        "payload": base64.b64encode(payload).decode("ascii"),
        "signatures": [{"keyid": keyid, "sig": base64.b64encode(sig).decode("ascii")}],
    }


@dataclass(frozen=True)
class Envelope:
    """A well-formed envelope, decoded. Nothing in it is trusted until `verify` says so."""

    payload_type: str
    payload: bytes
    keyid: str
    sig: bytes


def _b64(text: Any, what: str, kind: str) -> bytes:
    if not isinstance(text, str):
        raise ApprovalError(f"malformed {kind} envelope: {what} is not a base64 string")
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        # DSSE allows URL-safe base64 too.
        try:
            return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        except (binascii.Error, ValueError):
            raise ApprovalError(f"malformed {kind} envelope: {what} is not valid base64") from None


def parse(envelope: Any, kind: str = "approval") -> Envelope:
    """Decode an envelope (checking its shape only); `kind` names it in error messages."""
    if not isinstance(envelope, dict):
        raise ApprovalError(f"malformed {kind} envelope: not a JSON object")
    payload_type = envelope.get("payloadType")
    if not isinstance(payload_type, str):
        raise ApprovalError(f"malformed {kind} envelope: payloadType missing")
    payload = _b64(envelope.get("payload"), "payload", kind)
    sigs = envelope.get("signatures")
    # One signer per envelope, as sigstore-python requires exactly one signature.
    if not isinstance(sigs, list) or len(sigs) != 1 or not isinstance(sigs[0], dict):
        raise ApprovalError(f"malformed {kind} envelope: expected exactly one signature")
    keyid = sigs[0].get("keyid", "")
    return Envelope(payload_type, payload, keyid if isinstance(keyid, str) else "",
                    _b64(sigs[0].get("sig"), "signature", kind))


def verify(key: Ed25519PublicKey, env: Envelope) -> bool:
    try:
        key.verify(env.sig, pae(env.payload_type, env.payload))
    except InvalidSignature:
        return False
    return True
