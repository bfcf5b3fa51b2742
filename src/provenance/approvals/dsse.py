"""DSSE envelopes (secure-systems-lab/dsse protocol.md), Ed25519 only.

The signature covers PAE(payloadType, payload), so the type is inside the signed bytes
(the fix for type-confusion such as cosign CVE-2022-35929). `keyid` is an unauthenticated
hint for finding the key, never proof of who signed. Shaped after sigstore-python's
`sigstore/dsse` (_pae, _sign, _verify).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from provenance.errors import ApprovalError

PAYLOAD_TYPE = "application/vnd.in-toto+json"

# Approval documents are small and shallow (an envelope file nests 4 deep, a statement 3).
# Bounds checked BEFORE json parses anything: the C parser recurses per level, so a file of
# 200,000 brackets would otherwise end in a RecursionError ("internal error"), and a huge one
# in memory use the file's writer chose.
MAX_JSON_BYTES = 16 << 20
MAX_JSON_DEPTH = 32
_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_JSON_BRACKET = re.compile(rb"[\[\]{}]")


def json_depth(data: bytes) -> int:
    """The deepest nesting of arrays/objects in `data`, counted without recursion (brackets
    inside strings do not count). Malformed input just gives some number: json rejects it next."""
    depth = deepest = 0
    for m in _JSON_BRACKET.finditer(_JSON_STRING.sub(b'""', data)):
        if m.group() in (b"[", b"{"):
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


def load_json(data: bytes, what: str, max_bytes: int = MAX_JSON_BYTES) -> Any:
    """Parse an approval document (`what` names it in the error) within the size and depth bounds;
    ApprovalError with the reason when it is too large, too deep or not JSON."""
    if len(data) > max_bytes:
        raise ApprovalError(f"{what} is larger than {max_bytes >> 20} MiB; not an approval")
    if json_depth(data) > MAX_JSON_DEPTH:
        raise ApprovalError(f"{what} is nested deeper than {MAX_JSON_DEPTH} levels; not an approval")
    try:
        return json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ApprovalError(f"{what} is not JSON ({exc})") from None


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
