"""The disclosure report: every GenAI asset of the show, what made it, why, its declared risks
and whether the approvals it needs are in place — what a production sends its studio contact.

Approval state is verified, not just recalled: each recorded envelope is checked again
against the asset's hash and today's approvers registry, so a revoked approver shows.
"""

from __future__ import annotations

import csv
import io
import unicodedata
from dataclasses import dataclass
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from provenance.approvals import ApproverRegistry, verify_approval
from provenance.config import Config
from provenance.errors import ApprovalError
from provenance.ledger_view import LedgerView
from provenance.model import RISK_SCOPE, Scope, Zone

SCHEMA = "provenance.disclosure/v1"


@dataclass(frozen=True)
class Row:
    sha256: str
    paths: tuple[str, ...]
    classification: str
    tool: str | None
    purpose: str | None
    risks: tuple[str, ...]
    needed: tuple[str, ...]
    approved: tuple[str, ...]
    approvers: tuple[str, ...]
    references: tuple[str, ...]
    invalid_approvals: int
    last_seen: str

    @property
    def state(self) -> str:
        missing = sorted(set(self.needed) - set(self.approved))
        if missing:
            return "pending: " + ", ".join(missing)
        return "approved" if self.needed else "no approval needed (working material)"

    def to_dict(self) -> dict[str, Any]:
        return {"sha256": self.sha256, "paths": list(self.paths), "classification": self.classification,
                "tool": self.tool, "purpose": self.purpose, "risks": list(self.risks),
                "approvals_needed": list(self.needed), "approved_scopes": list(self.approved),
                "approvers": list(self.approvers), "references": list(self.references),
                "invalid_approvals": self.invalid_approvals, "state": self.state, "last_seen": self.last_seen}


def disclosure_rows(ledger: LedgerView, config: Config) -> list[Row]:
    registry = ApproverRegistry.load(config)
    rows = []
    for a in ledger.ai_assets():
        needed: set[Scope] = {RISK_SCOPE[r] for r in a.declarations.risks}
        if any(config.zone_for(p) is Zone.FINAL for p in a.paths):
            needed.add(Scope.FINAL_DELIVERABLE)
        granted_by: dict[Scope, set[str]] = {}
        approvers: list[str] = []
        refs: list[str] = []
        invalid = 0
        for envelope in ledger.approvals_for(a.sha256):
            try:
                v = verify_approval(envelope, a.sha256, registry)
            except ApprovalError:
                invalid += 1
                continue
            for scope in v.scopes:
                granted_by.setdefault(scope, set()).add(v.approver)
            approvers.append(v.approver)
            refs.append(v.reference)
        # A scope is approved once as many different approvers as the policy asks have granted it.
        approved = {s for s, names in granted_by.items() if len(names) >= config.required_approvers(s)}
        rows.append(Row(
            sha256=a.sha256, paths=a.paths, classification=str(a.classification),
            tool=a.declarations.tool or a.generator, purpose=a.declarations.purpose,
            risks=tuple(sorted(str(r) for r in a.declarations.risks)),
            needed=tuple(sorted(str(s) for s in needed)), approved=tuple(sorted(str(s) for s in approved)),
            approvers=tuple(dict.fromkeys(approvers)), references=tuple(dict.fromkeys(refs)),
            invalid_approvals=invalid, last_seen=a.last_seen,
        ))
    return rows


def to_json(rows: list[Row], config: Config) -> dict[str, Any]:
    return {"schema": SCHEMA, "policy_version": config.policy_version, "count": len(rows),
            "assets": [r.to_dict() for r in rows]}


CSV_FIELDS = ("sha256", "paths", "classification", "tool", "purpose", "risks", "approvals_needed",
              "approved_scopes", "approvers", "references", "state", "last_seen")


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
    for r in rows:
        d = r.to_dict()
        w.writerow({k: csv_cell("; ".join(d[k]) if isinstance(d[k], list) else d[k]) for k in CSV_FIELDS})
    return buf.getvalue()


def to_html(rows: list[Row], config: Config) -> str:
    env = Environment(loader=PackageLoader("provenance", "templates"),
                      autoescape=select_autoescape(["html", "j2"]), trim_blocks=True, lstrip_blocks=True)
    return env.get_template("disclosure.html.j2").render(rows=rows, config=config)
