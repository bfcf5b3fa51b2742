"""provenance: is this media AI-generated, and may it leave in a final delivery?

Public Python API for pipeline code. The CLI (`provenance ...`) is a thin shell over it.
"""

from __future__ import annotations

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
from provenance.pipeline import Inspector, inspect, inspect_tree

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
