"""What each event does to the current-state tables: one set of pure functions, used three ways.

`store.py` writes the state tables with them in the event's own transaction; `replay.py`
recomputes every state table from the event chain with them (`ledger verify`); and
`queries.recall_many` derives an asset's memory (tagged AI, declared risks) from the events
with them, so the gate never takes memory from a mutable column. Because all three share
this code, "what the chain says" and "what the tables say" can only differ when someone
edited a table, never because two copies of a rule drifted apart.

Values are plain JSON-shaped dicts (an event's payload as the JSON column gives it back).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from provenance.model import Classification, Declarations, Evidence, Finding, Remembered, Signal

AI_CLASSES = (str(Classification.AI_GENERATED), str(Classification.AI_EDITED))
STAT_COLUMNS = ("dev", "inode", "size", "mtime_ns", "ctime_ns")
Row = dict[str, Any]
# (classification, generator, where it was learnt): what a hash is remembered as.
Memory = tuple[str, str | None, str]
_MEMORY_SOURCES = ("ledger", "content")  # judge.LedgerHashMemory, memory.recall.ContentMemory


def declarations_from(data: Mapping[Any, Any] | None) -> Declarations:
    if not data:
        return Declarations()
    return Declarations.from_dict(data)


def envelope_digest(envelope: Mapping[Any, Any]) -> str:
    """An approval's identity in the `approvals` table (same JSON form as the chain hashes)."""
    text = json.dumps(envelope, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


FINGERPRINT_COLUMNS = ("sha256", "version", "kind", "essence", "duration", "data")


def fingerprint_digest(row: Mapping[Any, Any]) -> str:
    """What a `fingerprint` event records of a `fingerprints` row: the sha256 of everything
    the row says (its computed_at aside), so the row is authenticated by the chain."""
    text = json.dumps({c: row.get(c) for c in FINGERPRINT_COLUMNS}, sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def fingerprint_record(event: Mapping[Any, Any]) -> Row:
    """What a `fingerprint` event says its row must be: (version, digest)."""
    p = event["payload"]
    return {"version": p.get("version"), "digest": p.get("digest")}


def open_key(rule: str, sha256: str | None, path: str) -> str:
    return f"{rule}\x1f{sha256 or ''}\x1f{path}"


# -- assets ------------------------------------------------------------------------------------


def verdict_memory(verdict: Mapping[Any, Any], path: str | None, at: str) -> Memory | None:
    """What a verdict teaches the ledger about its hash: only AI evidence that did not come
    from memory may become memory (else a copy's verdict would re-launder the original's,
    and a content match, which is recomputed at every judgement, would outlive the signed
    not-derived-from record that dismissed it)."""
    cls = verdict.get("classification")
    if cls not in AI_CLASSES:
        return None
    outside = sorted({str(e.get("source")) for e in verdict.get("evidence") or ()
                      if isinstance(e, Mapping) and e.get("signal") in AI_CLASSES
                      and e.get("source") not in _MEMORY_SOURCES})
    if not outside:
        return None
    return str(cls), verdict.get("generator"), f"{', '.join(outside)} evidence at {path}, {at}"


def tag_memory(classification: str, tool: str | None, path: str | None, at: str,
               by: Mapping[str, Any] | None = None) -> Memory | None:
    """"tagged at PATH by USER (C2PA-signed as SIGNER), WHEN": who is what the tag event
    recorded (events from before it was recorded say no one)."""
    if classification not in AI_CLASSES:
        return None
    who = ""
    if isinstance(by, Mapping) and by.get("user"):
        who = f" by {by['user']}"
        if by.get("signer"):
            who += f" (C2PA-signed as {by['signer']})"
    return classification, tool, f"tagged at {path}{who}, {at}"


def asset_values(existing: Mapping[Any, Any] | None, *, at: str, event_id: int, classification: str,
                 generator: str | None, declarations: Declarations, remembered: Memory | None,
                 fmt: str | None = None, size: int | None = None) -> Row:
    """The columns one event sets on an asset row (`existing` is the row before it, or None).
    On insert the caller adds `sha256` and `first_seen`."""
    values: Row = {"classification": classification, "last_seen": at}
    if generator:
        values["generator"] = generator
    if fmt and fmt != "unknown":
        values["format"] = fmt
    if size is not None:
        values["size"] = size
    decl = declarations
    if existing is not None:
        decl = declarations.merged(declarations_from(existing.get("declarations")))
    if decl != Declarations() or existing is None:
        values["declarations"] = decl.to_dict()
        values["declared"] = decl != Declarations()
    if remembered is not None:
        values.update(remembered=remembered[0], remembered_generator=remembered[1],
                      remembered_from=remembered[2], remembered_event=event_id)
    return values


def new_asset(sha256: str, at: str, values: Row) -> Row:
    """A whole asset row as an insert of `values` leaves it (absent columns are NULL)."""
    row: Row = {"sha256": sha256, "format": None, "size": None, "generator": None, "declarations": None,
                "first_seen": at, "remembered": None, "remembered_generator": None,
                "remembered_from": None, "remembered_event": None, "declared": False}
    row.update(values)
    return row


def asset_changes(event: Mapping[Any, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(sha256, keyword arguments for `asset_values`) for every asset the event touches."""
    kind, payload, at = event["kind"], event["payload"], event["at"]
    if kind == "verdict" and event.get("sha256"):
        verdict = payload.get("verdict") or {}
        return [(event["sha256"], {
            "classification": str(verdict.get("classification")), "generator": verdict.get("generator"),
            "declarations": declarations_from(verdict.get("declarations")),
            "remembered": verdict_memory(verdict, event.get("path"), at),
            "fmt": verdict.get("format"), "size": verdict.get("size")})]
    if kind == "tag":
        cls = str(payload.get("classification"))
        decl = declarations_from(payload.get("declarations"))
        memory = tag_memory(cls, decl.tool, event.get("path"), at, payload.get("by"))
        hashes = dict.fromkeys(s for s in (payload.get("sha256_after"), payload.get("sha256_before")) if s)
        return [(str(sha), {"classification": cls, "generator": decl.tool, "declarations": decl,
                            "remembered": memory}) for sha in hashes]
    return []


# -- memory (what the gate recalls about a hash) -----------------------------------------------


def untag_withdrawals(event: Mapping[Any, Any]) -> list[tuple[str, frozenset[int], str]]:
    """(sha256, the events whose teaching about it is withdrawn, a note saying so) for an
    `untag` event: a signed retraction names exactly which events it withdraws per hash (the
    approver signed that list), and nothing else about the hash is forgotten."""
    if event["kind"] != "untag":
        return []
    p = event["payload"]
    note = (f"tag event {p.get('tag_event')} at {p.get('tag_path') or event.get('path')} withdrawn by "
            f"{p.get('approver')} at {event['at']}: {p.get('reason')}")
    return [(str(sha), frozenset(int(i) for i in ids), note)
            for sha, ids in sorted((p.get("withdrawn") or {}).items())]


@dataclass
class AssetMemory:
    """The memory of one asset, folded from its events in id order (an untag withdraws what
    named events taught, so each piece is kept with the event it came from)."""

    learnt: list[tuple[int, Memory | None, Declarations]] = field(default_factory=list)
    withdrawn: list[str] = field(default_factory=list)

    def apply(self, changes: Mapping[Any, Any], event_id: int = 0) -> None:
        self.learnt.append((event_id, changes["remembered"], changes["declarations"]))

    def withdraw(self, events: frozenset[int], note: str) -> None:
        self.learnt = [item for item in self.learnt if item[0] not in events]
        self.withdrawn.append(note)

    @property
    def remembered(self) -> Memory | None:
        return next((m for _, m, _ in reversed(self.learnt) if m is not None), None)

    @property
    def declarations(self) -> Declarations:
        merged = Declarations()
        for _, _, decl in self.learnt:
            merged = decl.merged(merged)
        return merged

    @property
    def teaches(self) -> bool:
        """Whether anything is still remembered (AI or declarations)."""
        return self.remembered is not None or self.declarations != Declarations()

    def recalled(self) -> Remembered | None:
        """As evidence for the classifier; None when there is nothing to recall."""
        evidence = []
        if self.remembered is not None:
            cls, generator, learnt = self.remembered
            evidence.append(Evidence(source="ledger", field="earlier verdict", value=f"{cls} ({learnt})",
                                     signal=Signal(cls), generator=generator))
        if self.declarations != Declarations():
            d = self.declarations
            shown = ", ".join(sorted(str(r) for r in d.risks)) or "none"
            evidence.append(Evidence(source="ledger", field="earlier declarations",
                                     value=f"declared for these bytes before: tool {d.tool or '?'},"
                                           f" risks {shown}", signal=Signal.INFO))
        # Shown (inspect, the gate's evidence), never a signal: the history stays visible.
        evidence.extend(Evidence(source="ledger", field="withdrawn tag", value=note)
                        for note in self.withdrawn)
        if not evidence:
            return None
        return Remembered(tuple(evidence), self.declarations)


# -- locations, findings, approvals, gate decisions ---------------------------------------------


def location_row(event: Mapping[Any, Any]) -> Row:
    """The `locations` row a verdict event leaves at its path."""
    payload = event["payload"]
    key = payload.get("stat_key") or (None,) * 5
    verdict = payload.get("verdict") or {}
    return {"path": event["path"], "sha256": event.get("sha256"), **dict(zip(STAT_COLUMNS, key, strict=True)),
            "zone": payload.get("zone"), "classification": verdict.get("classification"),
            "host": event.get("host"), "seen_at": event["at"], "event_id": event["id"]}


def finding_row(event: Mapping[Any, Any]) -> Row:
    # The row holds the finding exactly as `Finding.to_dict` says it (read back with
    # `Finding.from_dict`): one (de)serialisation, so a field cannot be dropped on the way.
    f = Finding.from_dict(event["payload"]).to_dict()
    return {**f, "open_key": open_key(f["rule"], f["sha256"], f["path"]),
            "status": "open", "opened_at": event["at"], "resolved_at": None, "resolution": None}


def resolved_values(event: Mapping[Any, Any]) -> Row:
    return {"status": "resolved", "open_key": None, "resolved_at": event["at"],
            "resolution": event["payload"].get("reason")}


def approval_row(event: Mapping[Any, Any]) -> Row:
    p = event["payload"]
    return {"envelope_digest": envelope_digest(p["envelope"]), "sha256": event.get("sha256"),
            "approver": p["approver"], "scopes": list(p["scopes"]), "reference": p["reference"],
            "expires_at": p.get("expires_at"), "recorded_at": event["at"], "envelope": p["envelope"],
            "event_id": event["id"]}


def gate_decision_row(event: Mapping[Any, Any]) -> Row:
    record = event["payload"]
    result = record.get("result", record.get("decision"))
    return {"at": event["at"], "result": None if result is None else str(result), "record": record,
            "event_id": event["id"]}
