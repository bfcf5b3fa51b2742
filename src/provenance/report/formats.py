"""Gate report formats by name, as the readers' and rules' tables work: the built-ins here,
plug-ins from the entry-point group `provenance.reports`. Each entry is a function
`(GateResult) -> bytes` (the whole file); `provenance gate --report NAME=FILE` writes one.

    [project.entry-points."provenance.reports"]
    sarif = "studio_reports:sarif"

Modules are imported only when their format is asked for (HTML pulls in Jinja2 and Pillow).
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable
from importlib.metadata import entry_points
from typing import TYPE_CHECKING

from provenance.errors import ConfigError

if TYPE_CHECKING:
    from provenance.gate.result import GateResult

Render = Callable[["GateResult"], bytes]
GROUP = "provenance.reports"

BUILTIN_FORMATS: dict[str, str] = {
    "json": "provenance.report.formats:json_bytes",
    "junit": "provenance.report.junit:junit_xml",
    "html": "provenance.report.html:gate_html_bytes",
    "shot-map-json": "provenance.report.shot_map:shot_map_json",
    "shot-map-csv": "provenance.report.shot_map:shot_map_csv",
    "shot-map-text": "provenance.report.shot_map:text_bytes",
}


def json_bytes(result: GateResult) -> bytes:
    from provenance.report.json import gate_report

    return (json.dumps(gate_report(result, result.policy_version), indent=1) + "\n").encode("utf-8")


def available() -> dict[str, str]:
    """Every format name with where it comes from (a plug-in cannot replace a built-in)."""
    found = dict(BUILTIN_FORMATS)
    for ep in entry_points(group=GROUP):
        found.setdefault(ep.name, ep.value)
    return found


def renderer(name: str) -> Render:
    target = available().get(name)
    if target is None:
        raise ConfigError(f"unknown report format {name!r}; available: {', '.join(available())}")
    module_name, _, attr = target.partition(":")
    try:
        fn: Render = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as exc:
        raise ConfigError(f"report format {name!r} could not be loaded: {exc}") from None
    return fn


def render(name: str, result: GateResult) -> bytes:
    out = renderer(name)(result)
    if not isinstance(out, bytes):
        raise ConfigError(f"report format {name!r} returned {type(out).__name__}, not bytes")
    return out
