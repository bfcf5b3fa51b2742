"""A JSON document of one kind, signed as a DSSE envelope with its own payload type: the ledger's
checkpoints and the gate's delivery decisions.

The payload type is inside the signed bytes (PAE), so a document signed as one kind is refused
as another however good its signature: a checkpoint is never read as a delivery decision, nor
an approval as either. The approvals themselves are opened by `approvals.verify`, which also
asks who signed them.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from provenance.approvals import dsse
from provenance.approvals.keys import key_id
from provenance.errors import ApprovalError, ProvenanceError


def sign_json(content: dict[str, Any], key: Ed25519PrivateKey, payload_type: str) -> dict[str, Any]:
    """`content` as canonical JSON (sorted keys, no spaces), in a DSSE envelope signed with `key`."""
    payload = json.dumps(content, sort_keys=True, separators=(",", ":")).encode("utf-8")
    return dsse.sign(key, payload, key_id(key.public_key()), payload_type)


def open_json(envelope: Any, payload_type: str, kind: str, public: Ed25519PublicKey | None,
              error: Callable[[str], ProvenanceError]) -> Any:
    """The JSON inside `envelope` (the bounds of `dsse.load_json`): an envelope of `payload_type`
    signed by `public`, or with `public` None read without checking the signature (the caller
    says so). Otherwise `error(reason)` is raised, `kind` ("ledger checkpoint") naming it."""
    try:
        env = dsse.parse(envelope, kind=kind)
        if env.payload_type != payload_type:
            raise ApprovalError(f"not a {kind} (payload type {env.payload_type!r})")
        if public is not None and not dsse.verify(public, env):
            raise ApprovalError(f"the {kind}'s signature does not verify with the given public key (key id "
                                f"{key_id(public)[:16]}…): forged, edited, or signed by another key")
        return dsse.load_json(env.payload, f"the signed {kind}")
    except ApprovalError as exc:
        raise error(exc.reason) from None
