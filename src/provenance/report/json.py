"""The gate's machine-readable report. `schema` is versioned: add fields freely, but renaming
or removing one means `provenance.gate/v2`. Paths are in their lossless text form
(`provenance.pathtext.to_text`): valid UTF-8 for any JSON reader, even for a name that is not."""

from __future__ import annotations

import json
from json.encoder import encode_basestring_ascii as _quote  # what json.dumps itself uses
from typing import Any

from provenance.gate.result import AssetResult, ClearAsset, FileOutcome, GateResult
from provenance.model import Declarations
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


_NO_DECLARATIONS = json.dumps(Declarations().to_dict())
_ASSETS = "\x00assets\x00"  # stands in for the asset list while the rest is encoded


def _clear_asset_json(a: ClearAsset) -> str:
    """`json.dumps(_asset(a))`, written directly: a warm gate's clear files are most of a
    package, and this is a fifth of building and encoding their dicts (the test compares the
    two for the same file)."""
    name, fmt, cls = _quote(to_text(a.name)), _quote(a.file_format), _quote(a.class_name)
    sha = "null" if a.sha256 is None else _quote(a.sha256)
    gen = "null" if a.generator is None else _quote(a.generator)
    return (f'{{"name": {name}, "kind": "file", "status": "clear", "classification": {cls}, '
            f'"format": {fmt}, "sha256": {sha}, "size": {a.file_size}, "frames": null, "reasons": [], '
            f'"findings": [], "approvals": [], "rejections": [], "notes": [], "memory": [], '
            f'"files": [{{"path": {name}, "sha256": {sha}, "format": {fmt}, "size": {a.file_size}, '
            f'"status": "clear", "classification": {cls}, "generator": {gen}, "tampered": false, '
            f'"link_target": null, "errors": [], "declarations": {_NO_DECLARATIONS}, "memory": []}}]}}')


def asset_json(a: AssetResult) -> str:
    """One asset's report entry as compact JSON text."""
    return _clear_asset_json(a) if isinstance(a, ClearAsset) else json.dumps(_asset(a))


def gate_report_json(result: GateResult, policy_version: str | None = None) -> str:
    """`json.dumps(gate_report(result, policy_version))`, with each clear file written directly."""
    report = gate_report(result, policy_version, with_assets=False)
    report["assets"] = _ASSETS
    head, _, tail = json.dumps(report).partition(json.dumps(_ASSETS))
    return f"{head}[{', '.join(map(asset_json, result.assets))}]{tail}"


def gate_report(result: GateResult, policy_version: str | None = None, *,
                with_assets: bool = True) -> dict[str, Any]:
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
        "assets": [_asset(a) for a in result.assets] if with_assets else [],
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
