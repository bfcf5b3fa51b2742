"""A signed retraction of one `provenance tag`: who may withdraw an AI declaration.

A retraction lowers what the ledger remembers about some bytes, so it is treated like an
approval, not like a tag: the C2PA signing key that `tag` uses is shared by the artists'
group, and an artist untagging AI material to sneak it out is exactly the attack. A
retraction is therefore a DSSE envelope signed by an active approver of the authenticated
registry (any scope: it clears nothing for delivery, it says a declaration was a mistake),
over a statement naming the tag event (id and chain hash), the bytes, the reason and
exactly which events' teaching it withdraws per hash. The gate keeps judging the file's own
evidence either way: a retraction never touches a generator's C2PA or XMP.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Mapping
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from provenance.approvals import dsse
from provenance.approvals.registry import Approver, ApproverRegistry
from provenance.approvals.sign import approver_for_key
from provenance.approvals.statement import format_time
from provenance.errors import ApprovalError

PAYLOAD_TYPE = "application/vnd.provenance.retraction+json"
STATEMENT_TYPE = "https://provenance-tool.org/retraction/v1"


def sign_retraction(key: Ed25519PrivateKey, registry: ApproverRegistry, *, tag_event: int,
                    tag_event_hash: str, sha256: str, path: str, reason: str,
                    withdrawn: dict[str, list[int]],
                    now: dt.datetime | None = None) -> tuple[dict[str, Any], Approver]:
    """Sign the retraction; refused (ApprovalError) for a key no active approver holds."""
    reason = " ".join(reason.split())
    if not reason:
        raise ApprovalError("a retraction needs a --reason")
    now = (now or dt.datetime.now(dt.UTC)).replace(microsecond=0)
    approver = approver_for_key(key, registry, (), now)
    statement = {"_type": STATEMENT_TYPE, "tag_event": tag_event, "tag_event_hash": tag_event_hash,
                 "sha256": sha256, "path": path, "reason": reason, "withdrawn": withdrawn,
                 "approver": approver.name, "email": approver.email, "key_id": approver.key_id,
                 "issued_at": format_time(now)}
    payload = json.dumps(statement, sort_keys=True, separators=(",", ":")).encode()
    envelope = dsse.sign(key, payload, approver.key_id, PAYLOAD_TYPE)
    # Check our own output as a reader would: the approver's registered key verifies it.
    env = dsse.parse(envelope, "retraction")
    if env.payload_type != PAYLOAD_TYPE or not dsse.verify(approver.public_key, env):
        raise ApprovalError("the retraction does not verify under the approver's registered key")
    return envelope, approver


def honour(registry: ApproverRegistry) -> Callable[[Mapping[str, Any]], bool]:
    """Whether an `untag` event may lower memory: its envelope verifies under the registered
    key of an approver who is not revoked, and its statement names what the event withdraws.

    Anyone who can write the database can append a well-chained event; only an approver can
    sign one. Without this check (`Ledger.retractions` unset: no registry) memory honours no
    retraction at all, and keeps saying AI — the safe side."""
    def check(event: Mapping[str, Any]) -> bool:
        payload = event.get("payload") or {}
        try:
            env = dsse.parse(payload.get("envelope"), "retraction")
        except ApprovalError:
            return False
        approver = registry.by_key_id(env.keyid)
        if (env.payload_type != PAYLOAD_TYPE or approver is None or approver.revoked
                or not dsse.verify(approver.public_key, env)):
            return False
        try:
            statement = json.loads(env.payload)
        except ValueError:
            return False
        return (isinstance(statement, dict) and statement.get("_type") == STATEMENT_TYPE
                and statement.get("tag_event") == payload.get("tag_event")
                and statement.get("sha256") == event.get("sha256")
                and statement.get("withdrawn") == payload.get("withdrawn"))
    return check
