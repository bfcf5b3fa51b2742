"""Who tagged, in the ledger's memory of a hash, on both backends (the CLI and every output:
tests/gate/test_memory_says_who.py)."""

from __future__ import annotations

from provenance.ledger import Ledger
from provenance.model import Classification, Declarations


def test_an_unsigned_tag_names_the_user_and_old_tag_events_name_no_one(ledger: Ledger) -> None:
    """On SQLite and PostgreSQL: tag events recorded before `by` existed (no such key in the
    payload) still read as they did; new ones name the user, and the signer only if it signed."""
    old, new = "a" * 64, "b" * 64
    ledger.record_tag("/show/old.png", None, old, Classification.AI_GENERATED, Declarations(tool="G"))
    ledger.record_tag("/show/new.png", None, new, Classification.AI_GENERATED, Declarations(tool="G"),
                      by={"user": "jdoe"})
    memory = ledger.recall_many([old, new])
    [said_old] = [e.value for e in memory[old].evidence if "tagged at" in (e.value or "")]
    [said_new] = [e.value for e in memory[new].evidence if "tagged at" in (e.value or "")]
    assert "tagged at /show/old.png, " in said_old and " by " not in said_old
    assert "tagged at /show/new.png by jdoe, " in said_new and "C2PA" not in said_new
    assert ledger.audit()[1] == []
