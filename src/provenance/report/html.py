"""The gate's HTML report: one self-contained file (inline CSS, thumbnails as data: URIs)."""

from __future__ import annotations

from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from provenance.gate.result import AssetResult, GateResult, Status
from provenance.report.thumbs import thumbnail_uri

_env = Environment(loader=PackageLoader("provenance", "templates"),
                   autoescape=select_autoescape(["html", "j2"]), trim_blocks=True, lstrip_blocks=True)

_ORDER = {Status.UNDECIDED: 0, Status.BLOCKED: 1, Status.APPROVED: 2, Status.WARNING: 3, Status.CLEAR: 4}


def _thumb(a: AssetResult) -> str | None:
    # Thumbnails only where someone must look: blocked and undecided assets.
    target = a.first_blocking
    if target is None or target.source is None or not target.verdict.readable:
        return None
    return thumbnail_uri(target.source, target.verdict.format)


def _view(a: AssetResult) -> dict[str, Any]:
    return {
        "name": a.name, "status": str(a.status), "classification": str(a.classification), "format": a.format,
        "sha256": a.sha256, "frames": len(a.frames), "missing": a.missing_frames, "reasons": a.reasons(),
        "approvals": a.approvals(), "thumb": _thumb(a),
        "warnings": a.warnings(),  # once per sequence, with the frames that raised it
        "generator": next((f.verdict.declarations.tool or f.verdict.generator for f in a.files
                           if f.verdict.declarations.tool or f.verdict.generator), None),
    }


def render(template: str, **context: Any) -> str:
    """A report template rendered with the one environment (autoescaped; includes resolve)."""
    return _env.get_template(template).render(**context)


def gate_html(result: GateResult) -> str:
    assets = sorted(result.assets, key=lambda a: (_ORDER[a.status], a.name))
    attention = [_view(a) for a in assets if a.status is not Status.CLEAR]
    clear = [a.name + (f" [{len(a.frames)} frames]" if a.is_sequence else "")
             for a in assets if a.status is Status.CLEAR]
    from provenance.report.shot_map import html_view  # its own module: the map is its own partial

    return _env.get_template("gate_report.html.j2").render(r=result, attention=attention, clear=clear,
                                                            counts=result.counts, shot_map=html_view(result))


def gate_html_bytes(result: GateResult) -> bytes:
    """The HTML report as the file's bytes (the report-format table's shape)."""
    return gate_html(result).encode("utf-8")
