"""The gate's HTML report: one self-contained file (inline CSS, thumbnails as data: URIs)."""

from __future__ import annotations

from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from provenance.gate.result import AssetResult, GateResult, Status
from provenance.report.thumbs import thumbnail_uri
from provenance.sequences import frame_range, natural_key

_env = Environment(loader=PackageLoader("provenance", "templates"),
                   autoescape=select_autoescape(["html", "j2"]), trim_blocks=True, lstrip_blocks=True)

_ORDER = {Status.BLOCKED: 0, Status.UNDECIDED: 1, Status.APPROVED: 2, Status.WARNING: 3, Status.CLEAR: 4}


_PREVIEWED = (Status.UNDECIDED, Status.BLOCKED, Status.APPROVED)


def _thumb(a: AssetResult) -> str | None:
    """A preview where someone must look (blocked, undecided) or signed off (approved): of
    the first file (frame) with the asset's own status."""
    if a.status not in _PREVIEWED:
        return None
    target = next((f for f in a.files if f.status is a.status), None)
    if target is None or target.source is None or not target.verdict.readable:
        return None
    return thumbnail_uri(target.source, target.verdict.format)


def relative_text(text: str, show_dir: str | None) -> str:
    """`text` with the show folder's own prefix taken off every path in it: a report sent
    out says `final/poster.png`, not where this host mounts the show."""
    if not show_dir:
        return text
    base = show_dir.rstrip("/")
    return text.replace(base + "/", "") if text != base else "."


def _view(a: AssetResult, show_dir: str | None) -> dict[str, Any]:
    def rel(texts: list[str]) -> list[str]:
        return [relative_text(t, show_dir) for t in texts]

    approvals = a.approvals()
    return {
        "name": a.name, "status": str(a.status), "classification": str(a.classification), "format": a.format,
        "sha256": a.sha256, "frames": len(a.frames), "range": a.sequence.frame_range if a.sequence else None,
        "missing": frame_range(a.missing_frames) if a.missing_frames else "",
        "reasons": rel(a.reasons()), "approvals": approvals, "thumb": _thumb(a),
        "warnings": rel(a.warnings()),  # once per sequence, with the frames that raised it
        "generator": next((f.verdict.declarations.tool or f.verdict.generator for f in a.files
                           if f.verdict.declarations.tool or f.verdict.generator), None),
    }


def render(template: str, **context: Any) -> str:
    """A report template rendered with the one environment (autoescaped; includes resolve)."""
    return _env.get_template(template).render(**context)


def gate_html(result: GateResult) -> str:
    """Blocked and undecided first, then approved (with a preview of what was signed off),
    then warnings; clear assets listed at the end, folded."""
    assets = sorted(result.assets, key=lambda a: (_ORDER[a.status], natural_key(a.name)))
    attention = [_view(a, result.show_dir) for a in assets if a.status is not Status.CLEAR]
    clear = [a.name + (f" [{len(a.frames)} frames]" if a.is_sequence else "")
             for a in assets if a.status is Status.CLEAR]
    paths = [relative_text(p, result.show_dir) for p in result.paths]
    from provenance.report.shot_map import html_view  # its own module: the map is its own partial

    return render("gate_report.html.j2", r=result, attention=attention, clear=clear, counts=result.counts,
                  shot_map=html_view(result), paths=paths,
                  fatal=relative_text(result.fatal or "", result.show_dir))


def gate_html_bytes(result: GateResult) -> bytes:
    """The HTML report as the file's bytes (the report-format table's shape)."""
    return gate_html(result).encode("utf-8")
