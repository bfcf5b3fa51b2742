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
import unicodedata
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from jinja2 import Environment, PackageLoader, select_autoescape

from provenance.config import Config
from provenance.judge import Decision, Judge
from provenance.ledger_view import LedgerView
from provenance.model import Verdict, Zone

if TYPE_CHECKING:
    from provenance.ledger.queries import AssetSummary

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


def _row(a: AssetSummary, decision: Decision) -> Row:
    """One asset's row: the scopes policy says it needs, and those its valid approvals clear
    under the one clearing rule (`policy.clearing`, e.g. enough distinct approvers)."""
    judgement = decision.judgement
    needed = {s for f in judgement.open + [c.finding for c in judgement.cleared] for s in f.clears_with}
    approved = {s for c in judgement.cleared for s in c.finding.clears_with if s in c.approval.scopes}
    return Row(
        sha256=a.sha256, paths=a.paths, classification=str(a.classification),
        tool=a.declarations.tool or a.generator, purpose=a.declarations.purpose,
        risks=tuple(sorted(str(r) for r in a.declarations.risks)),
        needed=tuple(sorted(str(s) for s in needed)), approved=tuple(sorted(str(s) for s in approved)),
        approvers=tuple(dict.fromkeys(v.approver for v in decision.approvals)),
        references=tuple(dict.fromkeys(v.reference for v in decision.approvals)),
        invalid_approvals=len(decision.rejections), last_seen=a.last_seen,
    )


def disclosure_rows(ledger: LedgerView, config: Config) -> list[Row]:
    """Every AI asset the ledger knows, judged by the one judging step as what it is: final
    deliverable if any of its paths is in a final zone, else working material. Approvals are
    gathered as the gate gathers them (portable files beside each path, and the ledger's
    records), each verified again against today's approvers registry."""
    judge = Judge(config, ledger, memories=[])  # the ledger's summary already is its memory
    rows = []
    for a in ledger.ai_assets():
        zone = Zone.FINAL if any(config.zone_for(p) is Zone.FINAL for p in a.paths) else Zone.WORKING
        verdict = Verdict(path=a.paths[0] if a.paths else a.sha256, sha256=a.sha256, format="unknown",
                          size=None, classification=a.classification, declarations=a.declarations,
                          generator=a.generator)
        rows.append(_row(a, judge.decide(verdict, zone, near=list(a.paths))))
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
