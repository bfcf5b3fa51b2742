"""Recompute every current-state table from the event chain and compare it with what is stored.

The state tables (assets, locations, findings, approvals, gate_decisions) are derived data
written beside each event, and anyone who can write the database can edit them without
touching the chain: `UPDATE locations SET sha256=…` or `UPDATE assets SET remembered=NULL`
leave every hash intact. `ledger verify` therefore replays the events through the same
functions the writer uses (state.py) and reports every difference — table, key, column,
what the chain says and what the table holds — including rows the chain never made and rows
it made that are gone.

Findings carry a database id the chain does not know, so they are compared by what the chain
does know: the rule, the asset's hash and path, and when the finding was opened.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, select

from provenance.ledger import state
from provenance.ledger.schema import approvals, assets, findings, fingerprints, gate_decisions, locations

Key = tuple[Any, ...]


@dataclass(frozen=True)
class Difference:
    """One way a stored state table disagrees with the event chain."""

    table: str
    key: str
    column: str | None  # None: the whole row is missing from one side
    chain: Any
    stored: Any

    def to_dict(self) -> dict[str, Any]:
        return {"table": self.table, "key": self.key, "column": self.column, "chain": self.chain,
                "stored": self.stored}

    def __str__(self) -> str:
        if self.column is None:
            return f"{self.table} {self.key}: chain has {self.chain}, table has {self.stored}"
        return (f"{self.table} {self.key}: column {self.column} is {self.stored!r} in the table, "
                f"{self.chain!r} by the chain")


class Replay:
    """Feed it every event in id order (`apply`), then `differences(conn)`."""

    def __init__(self) -> None:
        self.assets: dict[str, state.Row] = {}
        self.locations: dict[str, state.Row] = {}
        self.findings: dict[Key, state.Row] = {}
        self.open_findings: dict[str, Key | None] = {}  # open_key → findings key
        self.approvals: dict[str, state.Row] = {}
        self.gate_decisions: dict[int, state.Row] = {}
        self.fingerprints: dict[str, state.Row] = {}  # the latest record per sha256
        self.problems: list[Difference] = []
        # Where bytes used to be: a path they left (removed, or now other bytes), per sha256,
        # so a report can say what a hash no longer on storage was.
        self.former_paths: dict[str, list[str]] = {}
        self.kinds: dict[int, str] = {}

    def apply(self, event: Mapping[str, Any]) -> None:
        kind = event["kind"]
        self.kinds[event["id"]] = kind
        if kind == "untag":
            self._check_untag(event)
        for sha, changes in state.asset_changes(event):
            existing = self.assets.get(sha)
            values = state.asset_values(existing, at=event["at"], event_id=event["id"], **changes)
            if existing is None:
                self.assets[sha] = state.new_asset(sha, event["at"], values)
            else:
                existing.update(values)
        if kind in ("verdict", "removed"):
            before = self.locations.get(event["path"])
            left = kind == "removed" or (before is not None and before.get("sha256") != event.get("sha256"))
            if before is not None and before.get("sha256") and left:
                former = self.former_paths.setdefault(before["sha256"], [])
                if event["path"] not in former:
                    former.append(event["path"])
        if kind == "verdict":
            self.locations[event["path"]] = state.location_row(event)
        elif kind == "removed":
            self.locations.pop(event["path"], None)
        elif kind == "finding_opened":
            row = state.finding_row(event)
            key = _finding_key(row)
            self.findings[key] = row
            self.open_findings[row["open_key"]] = key
        elif kind == "findings_resolved":
            for f in event["payload"].get("findings") or ():
                open_key = state.open_key(f.get("rule"), event.get("sha256"), f.get("path"))
                resolved = self.open_findings.pop(open_key, None)
                if resolved is None:
                    self.problems.append(Difference(
                        "events", f"event {event['id']}", None,
                        f"a resolution of {f.get('rule')} on {f.get('path')}", "no such open finding"))
                    continue
                self.findings[resolved].update(state.resolved_values(event))
        elif kind == "approval":
            row = state.approval_row(event)
            self.approvals.setdefault(row["envelope_digest"], row)
        elif kind == "gate_decision":
            self.gate_decisions[event["id"]] = state.gate_decision_row(event)
        elif kind == "fingerprint" and event.get("sha256"):
            self.fingerprints[event["sha256"]] = state.fingerprint_record(event)

    def _check_untag(self, event: Mapping[str, Any]) -> None:
        """A retraction withdraws one earlier tag event, and only earlier events' teaching."""
        payload = event["payload"]
        tag = payload.get("tag_event")
        if not isinstance(tag, int) or self.kinds.get(tag) != "tag":
            self.problems.append(Difference("events", f"event {event['id']}", None,
                                            f"an untag of tag event {tag}", "no such earlier tag event"))
        for sha, ids in (payload.get("withdrawn") or {}).items():
            unknown = sorted(i for i in ids if not isinstance(i, int) or i not in self.kinds)
            if unknown:
                self.problems.append(Difference("events", f"event {event['id']}", None,
                                                f"a withdrawal of events {unknown} for {sha}",
                                                "no such earlier events"))

    def differences(self, conn: Connection) -> list[Difference]:
        out = list(self.problems)
        out += _compare("assets", self.assets, _stored(conn, assets, lambda r: r["sha256"]))
        out += _compare("locations", self.locations, _stored(conn, locations, lambda r: r["path"]))
        out += _compare("findings", self.findings, _stored(conn, findings, _finding_key), skip=("id",))
        out += _compare("approvals", self.approvals,
                        _stored(conn, approvals, lambda r: r["envelope_digest"]), skip=("id",))
        out += _compare("gate_decisions", self.gate_decisions,
                        _stored(conn, gate_decisions, lambda r: r["event_id"]), skip=("id",))
        # A fingerprint row is derived from the file, and authenticated by its event's digest:
        # an edited row, a row no event made, and a recorded one that is gone are all named.
        stored = {r["sha256"]: {"version": r["version"], "digest": state.fingerprint_digest(r)}
                  for r in (dict(m._mapping) for m in conn.execute(select(fingerprints)))}
        out += _compare("fingerprints", self.fingerprints, stored)
        return out


def _finding_key(row: Mapping[str, Any]) -> Key:
    return (row["opened_at"], row["rule"], row["sha256"], row["path"])


def _show(key: Any) -> str:
    if isinstance(key, tuple):
        opened_at, rule, sha256, path = key
        return f"{rule} on {path} (sha256 {sha256}, opened {opened_at})"
    return str(key)


def _stored(conn: Connection, table: Any, key_of: Any) -> dict[Any, state.Row]:
    return {key_of(r): dict(r) for r in conn.execute(select(table)).mappings()}


def _compare(table: str, chain: Mapping[Any, state.Row], stored: Mapping[Any, state.Row],
             skip: Iterable[str] = ()) -> list[Difference]:
    ignored = set(skip)
    out = []
    for key in sorted(set(chain) | set(stored), key=repr):
        want, have = chain.get(key), stored.get(key)
        if have is None:
            out.append(Difference(table, _show(key), None, "this row", "no such row"))
        elif want is None:
            out.append(Difference(table, _show(key), None, "no such row", "this row"))
        else:
            for column in sorted((set(want) | set(have)) - ignored):
                if want.get(column) != have.get(column):
                    out.append(Difference(table, _show(key), column, want.get(column), have.get(column)))
    return out
