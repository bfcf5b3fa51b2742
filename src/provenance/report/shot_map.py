"""The shot disclosure map: per AI clip of each edit handed to the gate — track, record in/out
at the timeline's rate, source in/out, clip and file, class, tool, declared risks, approval
state and reference — as text, JSON (`provenance.shot-map/v1`), CSV and an HTML partial
(`templates/_shot_map.html.j2`, with a thumbnail at each clip's in-point).

Rows come from the gate's own outcomes (`GateResult.edits`): the map says nothing the gate
did not decide. Clips whose media is missing, and clips that could not be decided, are listed
beside the AI clips (an undecided clip may be AI: it is never left out)."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from typing import Any

from provenance.gate.edits import EditResult, ShotOutcome
from provenance.gate.result import AssetResult, GateResult, Status
from provenance.model import Classification
from provenance.pathtext import to_text
from provenance.report.disclosure import csv_cell
from provenance.sequences import frame_range
from provenance.timeline import Shot, seconds, timecode
from provenance.wording import plural

SCHEMA = "provenance.shot-map/v1"
AI = frozenset({Classification.AI_GENERATED, Classification.AI_EDITED})


@dataclass(frozen=True)
class ShotRow:
    edit: str
    shot: Shot
    outcome: ShotOutcome
    asset: AssetResult  # the shot's files as one asset (a sequence's frames together)

    @property
    def status(self) -> Status:
        return self.outcome.status

    @property
    def file(self) -> str:
        if self.asset.is_sequence or len(self.asset.files) > 1:
            frames = self.shot.media.frames
            span = f" [frames {frame_range(frames)}]" if frames else ""
            return f"{self.asset.files[0].relpath}{span} ({len(self.asset.files)} files)"
        return self.asset.files[0].relpath if self.asset.files else ""

    @property
    def tool(self) -> str | None:
        return next((f.verdict.declarations.tool or f.verdict.generator for f in self.asset.files
                     if f.verdict.declarations.tool or f.verdict.generator), None)

    @property
    def risks(self) -> list[str]:
        return sorted({str(r) for f in self.asset.files for r in f.verdict.declarations.risks})

    @property
    def approval(self) -> str:
        """Approval state as a studio contact reads it."""
        approvals = self.asset.approvals()
        if self.status is Status.APPROVED:
            return "approved by " + "; ".join(f"{a['approver']} ({', '.join(a['scopes'])})"
                                              for a in approvals)
        if self.status is Status.BLOCKED:
            needed = sorted({s for f in self.asset.findings() if f.blocking for s in f.clears_with})
            return "pending: " + (", ".join(map(str, needed)) or "cannot be approved")
        if self.status is Status.UNDECIDED:
            return "undecided"
        return "no approval needed"

    @property
    def references(self) -> list[str]:
        return [str(a["reference"]) for a in self.asset.approvals() if a.get("reference")]

    def to_dict(self) -> dict[str, Any]:
        s = self.shot
        return {
            "shot": s.index, "track": s.track, "kind": s.kind, "clip": s.name, "enabled": s.enabled,
            "record_in": timecode(s.record_in), "record_out": timecode(s.record_out),
            "source_in": timecode(s.source_in), "source_out": timecode(s.source_out),
            "rate": s.rate, "source_rate": float(s.source_in.rate),
            "file": to_text(self.file), "files": [to_text(f.relpath) for f in self.asset.files],
            "frames": list(s.media.frames), "url": s.media.url,
            "classification": str(self.asset.classification), "tool": self.tool, "risks": self.risks,
            "status": str(self.status), "approval": self.approval, "references": self.references,
            "approvals": self.asset.approvals(), "reasons": self.asset.reasons(),
            "memory": self.asset.memory(), "notes": list(s.media.notes),
        }


def _is_ai(row: ShotRow) -> bool:
    return row.asset.classification in AI or row.status in (Status.BLOCKED, Status.APPROVED)


def rows(edit: EditResult) -> list[ShotRow]:
    """Every shot that has judged files, as a row (AI or not; callers filter)."""
    return [ShotRow(edit.path, o.shot, o, AssetResult(o.shot.name, o.files)) for o in edit.shots if o.files]


def ai_rows(edit: EditResult) -> list[ShotRow]:
    return [r for r in rows(edit) if _is_ai(r)]


def undecided_rows(edit: EditResult) -> list[ShotRow]:
    return [r for r in rows(edit) if r.status is Status.UNDECIDED and not _is_ai(r)]


def _missing(o: ShotOutcome) -> dict[str, Any]:
    s = o.shot
    return {"shot": s.index, "track": s.track, "clip": s.name, "url": s.media.url, "reason": s.media.missing,
            "record_in": timecode(s.record_in), "record_out": timecode(s.record_out),
            "allowed": o.missing is None}


def edit_dict(edit: EditResult) -> dict[str, Any]:
    t = edit.timeline
    return {
        "timeline": to_text(edit.path), "error": edit.error,
        "name": t.name if t else None, "format": t.format if t else None, "rate": t.rate if t else None,
        "clips": len(t.shots) if t else 0, "skipped": t.skipped if t else 0,
        "ai_shots": [r.to_dict() for r in ai_rows(edit)],
        "undecided": [r.to_dict() for r in undecided_rows(edit)],
        "missing": [_missing(o) for o in edit.missing],
        "notes": _notes(edit),
    }


def _notes(edit: EditResult) -> list[dict[str, Any]]:
    """What the edit made the gate do that the person running it did not ask for by name:
    media remapped, or resolved outside the edit's folder and the show (said for every clip,
    AI or not: a hostile edit may point anywhere)."""
    return [{"shot": o.shot.index, "clip": o.shot.name, "note": n}
            for o in edit.shots for n in o.shot.media.notes]


def shot_map(result: GateResult) -> dict[str, Any]:
    return {"schema": SCHEMA, "result": result.result, "decided_at": result.decided_at,
            "edits": [edit_dict(e) for e in result.edits]}


def shot_map_json(result: GateResult) -> bytes:
    return (json.dumps(shot_map(result), indent=1) + "\n").encode("utf-8")


CSV_FIELDS = ("timeline", "shot", "track", "record_in", "record_out", "source_in", "source_out", "clip",
              "file", "classification", "tool", "risks", "status", "approval", "references")


def shot_map_csv(result: GateResult) -> bytes:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=CSV_FIELDS, extrasaction="ignore", lineterminator="\r\n")
    w.writeheader()
    for edit in result.edits:
        for r in ai_rows(edit):
            d = {**r.to_dict(), "timeline": to_text(edit.path)}
            w.writerow({k: csv_cell("; ".join(d[k]) if isinstance(d[k], list) else d[k]) for k in CSV_FIELDS})
    return buf.getvalue().encode("utf-8")


def text_lines(result: GateResult) -> list[str]:
    """The map as the gate prints it, one line per AI, undecided or missing clip."""
    out = []
    for edit in result.edits:
        t = edit.timeline
        if t is None:
            out.append(f"shot map: {edit.path}: could not read the edit: {edit.error}")
            continue
        ai = ai_rows(edit)
        out.append(f"shot map: {edit.path} ({t.format}, {t.rate:g} fps): {plural(len(t.shots), 'clip')}"
                   + (f", {plural(t.skipped, 'generator')} skipped" if t.skipped else "") + f"; {len(ai)} AI")
        for r in [*ai, *undecided_rows(edit)]:
            s = r.shot
            risks = ", ".join(r.risks) or "none"
            refs = f"; ref {', '.join(r.references)}" if r.references else ""
            out.append(f"  {r.status.upper():9} #{s.index} {s.track} "
                       f"{timecode(s.record_in)}–{timecode(s.record_out)}  "
                       f"src {timecode(s.source_in)}–{timecode(s.source_out)}  {s.name} ({r.file})"
                       f"  {r.asset.classification}; tool {r.tool or '—'}; risks {risks}; {r.approval}{refs}")
        out.extend(f"  NOTE      #{n['shot']} {n['clip']}: {n['note']}" for n in _notes(edit)
                   if "outside" in n["note"])
        for o in edit.missing:
            s = o.shot
            how = "listed (--allow-missing)" if o.missing is None else "undecided"
            out.append(f"  MISSING   #{s.index} {s.track} {timecode(s.record_in)}–{timecode(s.record_out)}"
                       f"  {s.name}: {s.media.missing} — {how}")
    return out


def text_bytes(result: GateResult) -> bytes:
    return ("\n".join(text_lines(result)) + "\n").encode("utf-8")


def _thumb(r: ShotRow) -> str | None:
    """A frame at the clip's in-point: the first frame used of a sequence, the source-in time
    of a movie, the still itself."""
    from provenance.report.thumbs import thumbnail_uri

    f = r.asset.files[0]
    if f.source is None or not f.verdict.readable:
        return None
    return thumbnail_uri(f.source, f.verdict.format, at=seconds(r.shot.source_in))


def _relative(value: Any, show_dir: str | None) -> Any:
    """Every string in a view with the show folder's prefix taken off (`report.html`'s rule:
    a report sent out names no host path the show is mounted at)."""
    from provenance.report.html import relative_text

    if isinstance(value, str):
        return relative_text(value, show_dir)
    if isinstance(value, list):
        return [_relative(v, show_dir) for v in value]
    if isinstance(value, dict):
        return {k: _relative(v, show_dir) for k, v in value.items()}
    return value


def html_view(result: GateResult) -> list[dict[str, Any]]:
    """What `_shot_map.html.j2` renders: per edit, its AI rows with thumbnails, paths relative
    to the show."""
    views = []
    for edit in result.edits:
        d = _relative(edit_dict(edit), result.show_dir)
        for row, out in zip(ai_rows(edit), d["ai_shots"], strict=True):
            out["thumb"] = _thumb(row)
        views.append(d)
    return views
