"""provenance: is this media AI-generated, and may it leave in a final delivery?

Public Python API for pipeline code. The CLI (`provenance ...`) is a thin shell over it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

from provenance.model import (
    Asset,
    Classification,
    Evidence,
    Finding,
    Scope,
    Verdict,
    Zone,
)

if TYPE_CHECKING:
    from provenance.pipeline import Inspector, inspect, inspect_tree

_PIPELINE = ("Inspector", "inspect", "inspect_tree")

__all__ = [
    "Asset",
    "Classification",
    "Evidence",
    "Finding",
    "Inspector",
    "Scope",
    "Verdict",
    "Zone",
    "__version__",
    "inspect",
    "inspect_tree",
]


def __getattr__(name: str) -> Any:
    """The pipeline's names, imported on first use: every `provenance.x` import runs this
    package first, and the pipeline pulls in the configuration schema and the readers' table,
    which `provenance --version` or a gate on an empty package has no use for."""
    if name in _PIPELINE:
        from provenance import pipeline

        return getattr(pipeline, name)
    raise AttributeError(f"module 'provenance' has no attribute {name!r}")
