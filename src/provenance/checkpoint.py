"""Signed checkpoints of the ledger's hash chain, kept outside the database.

The chain alone detects an edited or deleted row, but whoever can write the database can
also recompute every hash after the row they changed, and the chain then verifies again.
A checkpoint is the chain head (newest event id and its row hash) signed with an Ed25519
key and stored somewhere the database's writers cannot reach (a git repository, WORM
storage, an email to the studio). Later, `ledger verify --checkpoint` checks that the
event at that id still has that hash and that the chain still verifies: then every event
up to the checkpoint is exactly what was there when it was signed (the hash chain makes
the prefix depend on every earlier row). This is the signed tree head of a transparency
log, in its simplest form.

The envelope is DSSE over a small JSON statement, with its own payload type so a
checkpoint can never be mistaken for an approval (or the reverse). This module sits above
both `ledger` and `approvals` (whose DSSE and key code it reuses, through `signed_json` as the
delivery decision does), so neither depends on the other through it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from provenance.errors import LedgerError
from provenance.ledger.chain import now
from provenance.ledger.store import Ledger
from provenance.signed_json import open_json, sign_json

SCHEMA = "provenance.ledger-checkpoint/v1"
PAYLOAD_TYPE = "application/vnd.provenance.ledger-checkpoint+json"


class CheckpointError(LedgerError):
    """A checkpoint file that cannot be used: malformed, or not signed by the given key."""


@dataclass(frozen=True)
class Checkpoint:
    last_id: int
    last_hash: str
    at: str
    ledger: str  # the ledger's URL when signed (informative: a ledger may move)

    def to_dict(self) -> dict[str, Any]:
        return {"schema": SCHEMA, "last_id": self.last_id, "last_hash": self.last_hash, "at": self.at,
                "ledger": self.ledger}


def sign_checkpoint(ledger: Ledger, key: Ed25519PrivateKey) -> tuple[Checkpoint, dict[str, Any]]:
    """Sign the ledger's current head; returns the checkpoint and its DSSE envelope."""
    last_id, last_hash = ledger.head()
    checkpoint = Checkpoint(last_id, last_hash, now(), ledger.url)
    return checkpoint, sign_json(checkpoint.to_dict(), key, PAYLOAD_TYPE)


def open_checkpoint(envelope: Any, public: Ed25519PublicKey) -> Checkpoint:
    """The checkpoint inside `envelope`, if `public` signed it; CheckpointError otherwise."""
    data = open_json(envelope, PAYLOAD_TYPE, "ledger checkpoint", public, CheckpointError)
    try:
        if data.get("schema") != SCHEMA:
            raise ValueError(f"schema {data.get('schema')!r}")
        return Checkpoint(int(data["last_id"]), str(data["last_hash"]), str(data["at"]),
                          str(data.get("ledger", "")))
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise CheckpointError(f"malformed checkpoint statement ({exc})") from None


def check(ledger: Ledger, checkpoint: Checkpoint) -> str | None:
    """None when the ledger still holds the history `checkpoint` signed; else why not.

    Call after `ledger.verify()` passed: a verified chain whose event N still has the
    signed hash holds the signed history for events 1..N, unchanged.
    """
    found = ledger.event_hash(checkpoint.last_id)
    if found is None:
        last_id, _ = ledger.head()
        return (f"event {checkpoint.last_id}, signed in the checkpoint of {checkpoint.at}, is gone "
                f"(the ledger now ends at event {last_id}): history was truncated")
    if found != checkpoint.last_hash:
        return (f"event {checkpoint.last_id} no longer has the hash signed in the checkpoint of "
                f"{checkpoint.at} ({checkpoint.last_hash[:12]}…, now {found[:12]}…): history up to it "
                "was rewritten, or the checkpoint is of another ledger")
    return None
