"""The approvers registry as a signed document: a DSSE envelope over its exact bytes.

`approvers.toml` stays the readable file a reviewer diffs; `approvers.toml.sig` beside it is a
DSSE envelope (dsse.py's PAE, Ed25519) whose payload is those exact bytes, with one signature
per admin key that signed this version. Nothing in the folder says which keys count: that is
the host's trust root (trust.py). What the loader believes is the *signed* payload; the file
beside it must equal it, so a hand edit is reported as such instead of being quietly ignored.
"""

from __future__ import annotations

import base64
import json
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from provenance._os import read_regular
from provenance.approvals import dsse
from provenance.approvals.keys import key_id
from provenance.approvals.trust import TrustRoot
from provenance.errors import ApprovalError, TrustError

PAYLOAD_TYPE = "application/vnd.provenance.approvers+toml"
SUFFIX = ".sig"
_MAX_SIGNATURES = 16
_MAX_BYTES = 4 * 1024 * 1024


# How often this process asked for the registry at each path to be authenticated
# (`ApproverRegistry.from_file`): whether a run needed to know who may approve.
ASKED: Counter[Path] = Counter()


def signature_path(registry: Path) -> Path:
    return registry.with_name(registry.name + SUFFIX)


def sign(payload: bytes, keys: Sequence[Ed25519PrivateKey]) -> dict[str, Any]:
    """One envelope, one signature per distinct admin key."""
    by_id = {key_id(k.public_key()): k for k in keys}
    if not by_id:
        raise TrustError("signing the approvers registry needs at least one --admin-key")
    signatures = [dsse.sign(k, payload, kid, PAYLOAD_TYPE)["signatures"][0]
                  for kid, k in sorted(by_id.items())]
    return {"payloadType": PAYLOAD_TYPE, "payload": base64.b64encode(payload).decode("ascii"),
            "signatures": signatures}


def read_envelope(registry: Path) -> dict[str, Any]:
    sig = signature_path(registry)
    try:
        raw = read_regular(sig, _MAX_BYTES + 1)
    except FileNotFoundError:
        raise TrustError(f"the approvers registry is not signed (no {sig.name} beside it): an admin signs "
                         "it once with `provenance approvers init --admin-key KEY --from "
                         f"{registry.name}`", registry) from None
    except OSError as exc:
        raise TrustError(f"cannot read the registry's signature: {exc.strerror}", sig) from None
    if len(raw) > _MAX_BYTES:
        raise TrustError("the registry's signature file is too large to be one", sig)
    try:
        doc = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise TrustError(f"malformed signature file: {exc}", sig) from None
    if not isinstance(doc, dict):
        raise TrustError("malformed signature file: not a JSON object", sig)
    return doc


def verify(envelope: dict[str, Any], trust: TrustRoot, where: Path) -> tuple[bytes, tuple[str, ...]]:
    """(the signed payload, the admin key ids whose signatures verify), or TrustError saying why.

    Needs `trust.threshold` distinct admin keys; a signature by any other key counts for nothing.
    """
    sigs = envelope.get("signatures")
    if not isinstance(sigs, list) or not 1 <= len(sigs) <= _MAX_SIGNATURES:
        raise TrustError(f"malformed signature file: expected 1 to {_MAX_SIGNATURES} signatures", where)
    if envelope.get("payloadType") != PAYLOAD_TYPE:
        raise TrustError(f"wrong payloadType {envelope.get('payloadType')!r} (expected {PAYLOAD_TYPE!r})",
                         where)
    verified: set[str] = set()
    altered: list[str] = []
    strangers: list[str] = []
    payload = b""
    for one in sigs:
        try:
            env = dsse.parse({**envelope, "signatures": [one]}, kind="approvers registry")
        except ApprovalError as exc:
            raise TrustError(exc.reason, where) from None
        payload = env.payload
        hinted = trust.admin_for(env.keyid) if env.keyid else None
        if hinted is not None:
            if dsse.verify(hinted, env):
                verified.add(env.keyid)
            else:
                altered.append(env.keyid)
            continue
        # keyid is only a hint: an unknown or missing one still gets a chance against every admin key.
        match = next((key_id(k) for k in trust.admin_keys if dsse.verify(k, env)), None)
        if match:
            verified.add(match)
        else:
            strangers.append(env.keyid or "none")
    if len(verified) >= trust.threshold:
        return payload, tuple(sorted(verified))
    pinned = f"{len(trust.admin_keys)} admin key(s) pinned in {trust.file}"
    if altered:
        raise TrustError(f"the signature by admin key {altered[0][:12]}… does not verify: the signed "
                         "registry was altered after it was signed", where)
    if not verified:
        raise TrustError(f"signed by key {strangers[0][:12]}…, which is not one of the {pinned}: a "
                         "registry signed by anyone else decides nothing", where)
    raise TrustError(f"signed by {len(verified)} admin key(s); the trust root needs {trust.threshold} "
                     f"({pinned})", where)
