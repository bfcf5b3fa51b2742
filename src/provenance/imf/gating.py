"""The gate's IMF step: each IMF package among the judged files, checked as one delivery.

The files were already judged one by one by the gate (the one judging step: tags, ledger
and content memory, per-file approvals). Here, per package (`package.open_package`):
- every problem of the package becomes a finding on the file it names (rule `imf-package`,
  blocking; `imf-undecided`, could not decide), or an entry of its own when no judged file
  carries it (a missing asset, a path out of the package);
- a judged file whose sha256 differs from the one the package check computed changed in
  between: undecided, since the bytes verified are not the bytes judged;
- an approval of the package (bound to its asset UUID/sha256 set, `approval.py`, found beside
  the package or in the ledger) is handed to the judge for each asset of that set, so it
  clears what it has the scopes for, like an approval of the file itself;
- every AI asset's places on each CPL timeline are reported (`timeline.py`).
"""

from __future__ import annotations

import dataclasses
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from provenance.approvals.verify import VerifiedApproval
from provenance.gate.masters import MasterReport
from provenance.gate.result import AssetResult, FileOutcome, Status
from provenance.gate.walk import PackageFile
from provenance.imf.approval import asset_set_digest
from provenance.imf.documents import Composition
from provenance.imf.package import ASSETMAP, Package, Problem, Severity, open_package
from provenance.imf.timeline import Placement, describe, narrowed, placements
from provenance.judge import Judge, failed_verdict
from provenance.model import Classification, Finding, Zone
from provenance.policy import Judgement

log = logging.getLogger(__name__)
PRINCIPLE = "An IMF package is delivered exactly as its packing list describes it."
RULE_BLOCKED = "imf-package"
RULE_UNDECIDED = "imf-undecided"


@dataclass(frozen=True)
class AiPlacement:
    """One AI asset of a package on one CPL's timeline."""

    path: str
    status: str
    classification: str
    placement: Placement

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "status": self.status, "classification": self.classification,
                **self.placement.to_dict()}


@dataclass
class PackageReport:
    name: str
    root: str
    assets_digest: str | None
    compositions: list[dict[str, str]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    timeline: list[AiPlacement] = field(default_factory=list)
    approvals: list[dict[str, Any]] = field(default_factory=list)
    rejections: list[str] = field(default_factory=list)
    assets: int = 0  # how many the PKLs list
    packing_lists: int = 0

    def line(self) -> str:
        """One line for people: what was checked, and what came of it."""
        from provenance.wording import plural as n

        cpls = ", ".join(f"'{c['title'] or c['cpl']}' ({c['edit_rate']})" for c in self.compositions)
        parts = [f"IMF package {self.name}: {n(self.assets, 'asset')} checked against "
                 f"{n(self.packing_lists, 'PKL')} (size, hash)", f"CPL {cpls or 'none'}",
                 n(len(self.problems), "problem")]
        if self.timeline:
            parts.append(f"{n(len(self.timeline), 'AI placement')} on the timeline")
        parts += [f"package approved by {a['approver']} (ref {a['reference']})" for a in self.approvals]
        return "; ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": "imf", "name": self.name, "root": self.root, "assets_sha256": self.assets_digest,
                "compositions": self.compositions, "problems": [p.to_dict() for p in self.problems],
                "timeline": [t.to_dict() for t in self.timeline], "approvals": self.approvals,
                "rejections": self.rejections}


def package_roots(files: Sequence[PackageFile]) -> list[Path]:
    """The outermost folders among the judged files that hold an ASSETMAP.xml."""
    roots = sorted({Path(os.path.abspath(os.path.dirname(pf.text))) for pf in files  # no Path per file
                    if pf.text.endswith(ASSETMAP) and os.path.basename(pf.text) == ASSETMAP})
    return [r for r in roots if not any(o != r and o in r.parents for o in roots)]


def _finding(problem: Problem, outcome: FileOutcome | None, relpath: str) -> Finding:
    v = outcome.verdict if outcome is not None else None
    return Finding(rule=RULE_BLOCKED if problem.severity is Severity.BLOCKED else RULE_UNDECIDED,
                   principle=PRINCIPLE, path=relpath, sha256=v.sha256 if v else None,
                   classification=v.classification if v else Classification.UNKNOWN, message=problem.reason)


def _with(outcome: FileOutcome, findings: Sequence[Finding], notes: Sequence[str]) -> FileOutcome:
    j = outcome.judgement
    return FileOutcome(outcome.relpath, outcome.verdict, Judgement([*j.open, *findings], list(j.cleared)),
                       list(outcome.rejections), [*outcome.notes, *notes], outcome.source)


def _display(root: Path, rel: str | None, sample: tuple[str, str] | None) -> str:
    """How a package-relative path is named in this gate run's report."""
    if sample is None:
        return f"{root.name}/{rel or ''}".rstrip("/")
    gate_rel, pkg_rel = sample  # one judged file: its report name ends in its package path
    prefix = gate_rel[: len(gate_rel) - len(pkg_rel)]
    return f"{prefix}{rel}" if rel else (prefix.rstrip("/") or root.name)


class _Gating:
    def __init__(self, judge: Judge, root: Path, masters: Sequence[MasterReport] = ()) -> None:
        self.judge = judge
        self.root = root
        self.pkg: Package = open_package(root)
        self.digest = asset_set_digest(self.pkg.listed()) if not self.pkg.problems else None
        self.report = PackageReport(root.name, str(root), self.digest, problems=list(self.pkg.problems),
                                    assets=len(self.pkg.listed()), packing_lists=len(self.pkg.packing_lists))
        self.report.compositions = [{"id": c.id, "title": c.title, "cpl": c.document,
                                     "edit_rate": f"{c.edit_rate.numerator}/{c.edit_rate.denominator}"}
                                    for c in self.pkg.compositions]
        self.granted: list[VerifiedApproval] = []
        if self.digest is not None:
            valid, rejected = judge.approvals(self.digest, [root])
            # verify_approval speaks of a file's bytes; here the subject is the asset set
            self.report.rejections = [r.replace("; the file is now", "; the package's asset set is now")
                                      for r in rejected]
            self.granted = valid
            self.report.approvals = [a.to_dict() for a in valid]
        self.where: dict[str, list[tuple[Composition, Placement]]] = {}
        for cpl in self.pkg.compositions:
            for p in placements(cpl):
                self.where.setdefault(p.track_file_id, []).append((cpl, p))
        # Picture segments only: chromaprint's span of an audio match covers the overlap it
        # aligned, not the AI sound's extent (fpcalc also stops early in some MXF sound files),
        # so an AI sound track file is placed as a whole.
        self.segments: dict[str, list[tuple[float, float]]] = {
            m.path: [(s.start, s.end) for s in m.segments if s.how == "frames"] for m in masters}

    def _ai_parts(self, asset_id: str, segments: list[tuple[float, float]] | None) -> list[Placement]:
        """Where an AI track file plays: every resource of it, or only the parts that play the
        segments content memory matched (a reel with one AI shot in it)."""
        if not segments:
            return [p for _, p in self.where.get(asset_id, [])]
        return [n for cpl, p in self.where.get(asset_id, []) for t0, t1 in segments
                for n in narrowed(cpl, p, t0, t1)]

    def outcome(self, o: FileOutcome, rel: str) -> FileOutcome:
        asset = self.pkg.by_relpath().get(rel)
        findings = [_finding(p, o, o.relpath) for p in self.pkg.problems if p.path == rel]
        if asset and asset.sha256 and o.verdict.sha256 and asset.sha256 != o.verdict.sha256:
            why = f"{rel} changed while it was judged (the package check hashed other bytes)"
            findings.append(_finding(Problem(Severity.UNDECIDED, why, rel), o, o.relpath))
        if asset and self.granted and o.status is Status.BLOCKED and asset.sha256 == o.verdict.sha256:
            o = self._approved(o, asset.id)
        if asset and o.status is Status.BLOCKED and self.report.rejections:
            # say why the package's approvals did not clear it, beside the file's own
            said = [f"package {self.root.name}: {r}" for r in self.report.rejections]
            o = FileOutcome(o.relpath, o.verdict, o.judgement, [*o.rejections, *said], o.notes, o.source)
        notes = []
        if asset and o.verdict.classification.is_ai:
            for p in self._ai_parts(asset.id, self.segments.get(o.relpath)):
                notes.append(describe(p))
                self.report.timeline.append(
                    AiPlacement(o.relpath, str(o.status), str(o.verdict.classification), p))
        return _with(o, findings, notes) if findings or notes else o

    def _approved(self, o: FileOutcome, asset_id: str) -> FileOutcome:
        sha = o.verdict.sha256
        assert sha is not None
        # Verified against the set digest, which holds (asset_id, sha): for these bytes.
        granted = [dataclasses.replace(a, subject_sha256=sha, notes=(
            *a.notes, f"approval of IMF package {self.root.name} (asset {asset_id})")) for a in self.granted]
        assert o.source is not None
        decision = self.judge.decide(o.verdict, Zone.FINAL, [o.source], granted)
        rejections = list(decision.rejections) if decision.judgement.blocking else []
        return FileOutcome(o.relpath, decision.verdict, decision.judgement, rejections, list(o.notes),
                           o.source)

    def orphans(self, carried: set[str], sample: tuple[str, str] | None) -> list[AssetResult]:
        """Problems no judged file carries: each an undecided or blocked entry of its own."""
        out = []
        for p in self.pkg.problems:
            if p.path is not None and p.path in carried:
                continue
            name = _display(self.root, p.path if p.path is not None else ASSETMAP, sample)
            verdict = dataclasses.replace(failed_verdict(name, p.reason), errors=())
            finding = _finding(p, None, name)
            out.append(AssetResult(name, [FileOutcome(name, verdict, Judgement([finding]))]))
        return out


def _rel(source: str | None, root: Path) -> str | None:
    if source is None:
        return None
    try:
        return Path(os.path.abspath(source)).relative_to(root).as_posix()
    except ValueError:
        return None


def check_packages(assets: list[AssetResult], roots: Sequence[Path], judge: Judge,
                   masters: Sequence[MasterReport] = ()) -> tuple[list[AssetResult], list[PackageReport]]:
    """The gate's assets with every package's findings, approvals and timeline applied;
    `masters`: the segments content memory matched in track files, placed precisely."""
    reports = []
    for root in roots:
        try:
            assets, report = _check_package(assets, root, judge, masters)
        except Exception as exc:  # fail closed: a package we could not check is undecided, said once
            log.exception("checking the IMF package %s failed", root)
            reason = f"could not check the IMF package: internal error: {type(exc).__name__}: {exc}"
            name = root.name
            finding = _finding(Problem(Severity.UNDECIDED, reason, ASSETMAP), None, name)
            verdict = dataclasses.replace(failed_verdict(name, reason), errors=())
            assets = [*assets, AssetResult(name, [FileOutcome(name, verdict, Judgement([finding]))])]
            report = PackageReport(root.name, str(root), None, problems=[Problem(Severity.UNDECIDED, reason)])
        reports.append(report)
    return assets, reports


def _check_package(assets: list[AssetResult], root: Path, judge: Judge,
                   masters: Sequence[MasterReport]) -> tuple[list[AssetResult], PackageReport]:
    g = _Gating(judge, root, masters)
    carried: set[str] = set()
    sample: tuple[str, str] | None = None
    updated = []
    for a in assets:
        files = []
        for o in a.files:
            rel = _rel(o.source, root)
            if rel is None:
                files.append(o)
                continue
            carried.add(rel)
            sample = sample or (o.relpath, rel)
            files.append(g.outcome(o, rel))
        changed = any(x is not y for x, y in zip(files, a.files, strict=True))
        updated.append(dataclasses.replace(a, files=files) if changed else a)
    return updated + g.orphans(carried, sample), g.report
