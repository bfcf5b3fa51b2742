"""The gate's machine-readable report. `schema` is versioned: add fields freely, but renaming
or removing one means `provenance.gate/v2`. Paths are in their lossless text form
(`provenance.pathtext.to_text`): valid UTF-8 for any JSON reader, even for a name that is not."""

from __future__ import annotations

from typing import Any

from provenance.gate.result import AssetResult, FileOutcome, GateResult
from provenance.pathtext import to_text

SCHEMA = "provenance.gate/v1"


def _file(o: FileOutcome) -> dict[str, Any]:
    v = o.verdict
    return {
        "path": to_text(o.relpath), "sha256": v.sha256, "format": v.format, "size": v.size,
        "status": str(o.status), "classification": str(v.classification), "generator": v.generator,
        "tampered": v.tampered, "link_target": v.link_target and to_text(v.link_target),
        "errors": list(v.errors),
        "declarations": v.declarations.to_dict(),
        "memory": [r.to_dict() for r in v.recollections],
    }


def _asset(a: AssetResult) -> dict[str, Any]:
    frames = a.sequence.to_dict() if a.sequence is not None else None
    return {
        "name": to_text(a.name),
        "kind": "sequence" if a.is_sequence else "file",
        "status": str(a.status),
        "classification": str(a.classification),
        "format": a.format,
        "sha256": a.sha256,
        "size": a.size,
        "frames": frames,
        "reasons": a.reasons(),
        "findings": [f.to_dict() for f in a.findings()],
        "approvals": a.approvals(),
        "rejections": sorted({r for f in a.files for r in f.rejections}),
        "notes": sorted({n for f in a.files for n in f.notes}),
        "memory": a.memory(),
        "files": [_file(f) for f in a.files],
    }


def gate_report(result: GateResult, policy_version: str | None = None) -> dict[str, Any]:
    return {
        "schema": SCHEMA,
        "result": result.result,
        "exit_code": result.exit_code,
        "summary": result.summary(),
        "decided_at": result.decided_at,
        "dry_run": result.dry_run,
        "decision_id": result.decision_id,
        "inputs_digest": result.inputs_digest,
        "policy_digest": result.policy_digest,
        "policy_version": policy_version,
        "paths": [to_text(p) for p in result.paths],
        "files": result.n_files,
        "counts": result.counts,
        "fatal": result.fatal,
        "assets": [_asset(a) for a in result.assets],
        "shot_map": _shot_map(result),
        "packages": [p.to_dict() for p in result.packages],
        "masters": [m.to_dict() for m in result.masters],
    }


def _shot_map(result: GateResult) -> dict[str, Any] | None:
    if not result.edits:
        return None
    from provenance.report.shot_map import shot_map

    return shot_map(result)


def fatal_report(reason: str, paths: list[str]) -> dict[str, Any]:
    """The report when the gate could not run at all (bad config, unreachable ledger): exit 3."""
    return {"schema": SCHEMA, "result": "undecided", "exit_code": 3, "summary": f"could not decide: {reason}",
            "fatal": reason, "paths": paths, "files": 0, "counts": {}, "assets": []}
