"""The disclosure report: every GenAI asset of the show, what made it, why, its declared risks
and whether the approvals it needs are in place — what a production sends its studio contact.

Approval state is verified, not just recalled: each approval (portable files beside the
asset's paths, and the ledger's records) is checked again against the asset's hash and
today's approvers registry, so a revoked approver shows; and it is decided by the same
judging step and clearing rule as the gate (`provenance.judge`, `policy.clearing`).
"""

from __future__ import annotations

import csv
import io
import os
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from provenance.config import Config
from provenance.judge import Decision, Judge
from provenance.ledger_view import LedgerView
from provenance.model import Verdict, Zone
from provenance.sequences import Group, frame_range, group, natural_key, split

if TYPE_CHECKING:
    from provenance.ledger.queries import AssetSummary

SCHEMA = "provenance.disclosure/v1"


class ApprovalState(StrEnum):
    """Where an asset stands, for totals and for the reader of the report."""

    PENDING = "pending"  # in a final zone, an approval it needs is missing
    APPROVED = "approved"  # every approval it needs is in place and valid
    NOT_NEEDED = "not-needed"  # working material only: nothing needed yet
    NOT_ON_STORAGE = "not-on-storage"  # the ledger knows the bytes, no copy is there any more


@dataclass(frozen=True)
class Row:
    sha256: str
    paths: tuple[str, ...]  # relative to the show (see `shown_path`), the last known ones if gone
    classification: str
    tool: str | None
    purpose: str | None
    risks: tuple[str, ...]
    needed: tuple[str, ...]
    approved: tuple[str, ...]
    approvers: tuple[str, ...]
    references: tuple[str, ...]
    invalid_approvals: int
    first_seen: str
    last_seen: str
    on_storage: bool = True
    source: str | None = field(default=None, compare=False)  # a path on disk, for a thumbnail

    @property
    def approval_state(self) -> ApprovalState:
        if not self.on_storage:
            return ApprovalState.NOT_ON_STORAGE
        if set(self.needed) - set(self.approved):
            return ApprovalState.PENDING
        return ApprovalState.APPROVED if self.needed else ApprovalState.NOT_NEEDED

    @property
    def state(self) -> str:
        state = self.approval_state
        if state is ApprovalState.PENDING:
            return "pending: " + ", ".join(sorted(set(self.needed) - set(self.approved)))
        return _STATE_TEXT[state]

    def to_dict(self) -> dict[str, Any]:
        return {"sha256": self.sha256, "paths": list(self.paths), "classification": self.classification,
                "tool": self.tool, "purpose": self.purpose, "risks": list(self.risks),
                "approvals_needed": list(self.needed), "approved_scopes": list(self.approved),
                "approvers": list(self.approvers), "references": list(self.references),
                "invalid_approvals": self.invalid_approvals, "state": self.state,
                "approval_state": str(self.approval_state), "on_storage": self.on_storage,
                "first_seen": self.first_seen, "last_seen": self.last_seen}


_STATE_TEXT = {ApprovalState.APPROVED: "approved",
               ApprovalState.NOT_NEEDED: "no approval needed (working material)",
               ApprovalState.NOT_ON_STORAGE: "no longer on storage"}


def shown_path(config: Config, path: str) -> str:
    """A path as the report shows it: relative to the show folder, or to the watched root
    that holds it (named by the root's folder), never the writing host's absolute path
    unless it lies outside all of them."""
    rel = config.relative(path)
    if not os.path.isabs(rel):
        return rel
    for root in config.roots:
        try:
            return f"{root.path.name}/{Path(path).relative_to(root.path).as_posix()}"
        except ValueError:
            continue
    return rel


def _on_disk(path: str) -> bool:
    return os.path.isfile(path)  # a copy there; the gate, not this report, checks its bytes


def _row(a: AssetSummary, decision: Decision, config: Config) -> Row:
    """One asset's row: the scopes policy says it needs, and those its valid approvals clear
    under the one clearing rule (`policy.clearing`, e.g. enough distinct approvers)."""
    judgement = decision.judgement
    needed = {s for f in judgement.open + [c.finding for c in judgement.cleared] for s in f.clears_with}
    approved = {s for c in judgement.cleared for s in c.finding.clears_with if s in c.approval.scopes}
    present = [p for p in a.paths if _on_disk(p)]
    return Row(
        sha256=a.sha256, paths=tuple(shown_path(config, p) for p in (present or a.paths or a.former_paths)),
        classification=str(a.classification),
        tool=a.declarations.tool or a.generator, purpose=a.declarations.purpose,
        risks=tuple(sorted(str(r) for r in a.declarations.risks)),
        needed=tuple(sorted(str(s) for s in needed)), approved=tuple(sorted(str(s) for s in approved)),
        approvers=tuple(dict.fromkeys(v.approver for v in decision.approvals)),
        references=tuple(dict.fromkeys(v.reference for v in decision.approvals)),
        invalid_approvals=len(decision.rejections), first_seen=a.first_seen, last_seen=a.last_seen,
        on_storage=bool(present), source=present[0] if present else None,
    )


def disclosure_rows(ledger: LedgerView, config: Config) -> list[Row]:
    """Every AI asset the ledger knows, judged by the one judging step as what it is: final
    deliverable if any of its present paths is in a final zone, else working material. Bytes
    with no copy left on storage are said to be gone, not "working material". Approvals are
    gathered as the gate gathers them (portable files beside each path, and the ledger's
    records), each verified again against today's approvers registry."""
    judge = Judge(config, ledger, memories=[])  # the ledger's summary already is its memory
    rows = []
    for a in ledger.ai_assets():
        present = [p for p in a.paths if _on_disk(p)]
        zone = Zone.FINAL if any(config.zone_for(p) is Zone.FINAL for p in present) else Zone.WORKING
        verdict = Verdict(path=a.paths[0] if a.paths else a.sha256, sha256=a.sha256, format="unknown",
                          size=None, classification=a.classification, declarations=a.declarations,
                          generator=a.generator)
        rows.append(_row(a, judge.decide(verdict, zone, near=present), config))
    return rows


def _content(r: Row) -> tuple[object, ...]:
    """What a report row says besides its name: frames that agree on it share a row."""
    return (r.classification, r.tool, r.purpose, r.risks, r.state, r.approvers, r.references,
            r.invalid_approvals)


def entries(rows: list[Row]) -> list[Group[Row]]:
    """Rows as a report lists them: the frames of an image sequence collapsed into one entry
    per distinct answer (`comp/shot.1001-1004,1006-1010#.exr`), pending first, then approved,
    working material, and what is no longer on storage; by name within each."""
    groups = [part for g in group(rows, lambda r: r.paths[0] if r.paths else r.sha256,
                                  groupable=lambda r: len(r.paths) == 1)
              for part in split(g, _content)]
    return sorted(groups, key=lambda g: (_ORDER[g.items[0].approval_state], natural_key(g.name)))


_ORDER = {ApprovalState.PENDING: 0, ApprovalState.APPROVED: 1, ApprovalState.NOT_NEEDED: 2,
          ApprovalState.NOT_ON_STORAGE: 3}


@dataclass(frozen=True)
class Totals:
    """Counts for the report's head: assets as listed (a sequence once), and files."""

    assets: int
    files: int
    by_tool: dict[str, int]
    by_risk: dict[str, int]
    by_state: dict[str, int]
    first_seen: str | None
    last_seen: str | None

    def to_dict(self) -> dict[str, Any]:
        return {"assets": self.assets, "files": self.files, "by_tool": self.by_tool, "by_risk": self.by_risk,
                "by_approval_state": self.by_state,
                "period": {"first_seen": self.first_seen, "last_seen": self.last_seen}}


def totals(rows: list[Row], listed: list[Group[Row]] | None = None) -> Totals:
    """Totals of `rows`, as listed by `entries` (given, when the caller has them already)."""
    listed = entries(rows) if listed is None else listed
    heads = [g.items[0] for g in listed]
    risks = Counter(r for h in heads for r in h.risks)
    return Totals(
        assets=len(listed), files=len(rows),
        by_tool=dict(Counter(h.tool or "(not named)" for h in heads).most_common()),
        by_risk=dict(sorted(risks.items())) or {},
        by_state={str(s): n for s in ApprovalState
                  if (n := sum(h.approval_state is s for h in heads))},
        first_seen=min((r.first_seen for r in rows), default=None),
        last_seen=max((r.last_seen for r in rows), default=None),
    )


def _sequence_of(listed: list[Group[Row]]) -> dict[str, str]:
    """Each frame's sha256 → the name of the sequence entry it is listed under."""
    return {r.sha256: g.name for g in listed if g.is_sequence for r in g.items}


def to_json(rows: list[Row], config: Config) -> dict[str, Any]:
    listed = entries(rows)  # one grouping for the totals and the sequence names
    seq = _sequence_of(listed)
    return {"schema": SCHEMA, "show": config.title, "policy_version": config.policy_version,
            "generated_at": _now(), "count": len(rows), "totals": totals(rows, listed).to_dict(),
            "assets": [{**r.to_dict(), "sequence": seq.get(r.sha256)} for r in rows]}


# One row per asset (per frame of a sequence: `sequence` names the entry it is listed under).
# Lists are joined with "; ". Documented in `provenance report --help` and docs/reports.md.
CSV_COLUMNS: dict[str, str] = {
    "sha256": "the asset's content hash (its identity)",
    "paths": "where it is, relative to the show; the last known paths when no longer on storage",
    "sequence": "the image sequence it belongs to, with its frame range (empty for a single file)",
    "classification": "ai_generated or ai_edited",
    "tool": "the generative tool declared or detected",
    "purpose": "the declared purpose",
    "risks": "declared risks (talent-likeness, third-party-style, …)",
    "approvals_needed": "approval scopes policy requires for it",
    "approved_scopes": "the scopes valid approvals grant",
    "approvers": "who approved",
    "references": "the approvals' references (legal ticket, contract)",
    "approval_state": "pending, approved, not-needed (working material) or not-on-storage",
    "state": "the approval state in words, with the scopes still missing",
    "on_storage": "yes when a copy is on storage now",
    "first_seen": "when the ledger first saw these bytes (UTC)",
    "last_seen": "when the ledger last saw them (UTC)",
}
CSV_FIELDS = tuple(CSV_COLUMNS)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


# A cell starting with one of these is run as a formula by Excel, LibreOffice and Google Sheets
# (OWASP "CSV Injection"); full-width and small forms (＝, ﹫…) are matched through NFKC, and
# leading spaces are skipped because some importers trim them first.
_FORMULA_START = frozenset("=+-@\t\r")


def csv_cell(value: object) -> str:
    """`value` as a CSV cell that no spreadsheet evaluates: a would-be formula gets a leading
    quote (OWASP's escape), so the text is still all there for a reader."""
    text = "" if value is None else str(value)
    first = text.lstrip(" ")[:1]
    if first and (first in _FORMULA_START or unicodedata.normalize("NFKC", first) in _FORMULA_START):
        return "'" + text
    return text


def to_csv(rows: list[Row]) -> str:
    buf = io.StringIO()
    # RFC 4180's CRLF: the writer quotes a field holding any character of the line terminator,
    # so a bare CR in metadata (a row break to a spreadsheet) is quoted too, not only LF.
    w = csv.DictWriter(buf, fieldnames=CSV_FIELDS, extrasaction="ignore", lineterminator="\r\n")
    w.writeheader()
    seq = _sequence_of(entries(rows))
    for r in rows:
        d = {**r.to_dict(), "sequence": seq.get(r.sha256)}
        d["on_storage"] = "yes" if r.on_storage else "no"
        w.writerow({k: csv_cell("; ".join(d[k]) if isinstance(d[k], list) else d[k]) for k in CSV_FIELDS})
    return buf.getvalue()


MAX_THUMBS = 300  # beyond this the file gets too big to mail; every entry is still listed


def to_html(rows: list[Row], config: Config) -> str:
    """One self-contained file: the show's title and period, totals, then every entry with a
    thumbnail of its (first) frame while it is on storage."""
    from provenance.report.html import render
    from provenance.report.thumbs import sniffed_thumbnail_uri

    listed = entries(rows)
    views = []
    for n, g in enumerate(listed):
        head = g.items[0]
        src = next((r.source for r in g.items if r.source), None)
        views.append({"name": g.name, "row": head, "frames": len(g.items) if g.is_sequence else 0,
                      "missing": frame_range(g.sequence.missing) if g.sequence else "",
                      "range": g.sequence.frame_range if g.sequence else None,
                      "other_paths": head.paths[1:] if not g.is_sequence else (),
                      "thumb": sniffed_thumbnail_uri(src) if src and n < MAX_THUMBS else None})
    return render("disclosure.html.j2", show=config.title, entries=views, totals=totals(rows, listed),
                  config=config, generated_at=_now(), thumbs_capped=len(listed) > MAX_THUMBS,
                  max_thumbs=MAX_THUMBS)
