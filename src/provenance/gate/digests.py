"""The two digests a decision record is keyed by: what was judged, and under which policy.

Both are sha256 over canonical JSON, so the same package under the same policy always
gives the same pair, and a changed byte, path, rule setting or approver changes one of them.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from provenance._os import read_regular
from provenance.approvals.trust import host_capture_anchors
from provenance.config import Config


def _digest(obj: Any) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def inputs_digest(pairs: Iterable[tuple[str, str | None]]) -> str:
    """sha256 over the sorted (relpath, sha256) of every file sent; unreadable files hash as null."""
    return _digest(sorted(pairs, key=lambda p: (p[0], p[1] or "")))


def _file_digests(files: Iterable[Path]) -> list[str | None]:
    """sha256 of each file's bytes; None for one that cannot be read."""
    digests: list[str | None] = []
    for f in files:
        try:
            digests.append(hashlib.sha256(read_regular(f)).hexdigest())
        except OSError:
            digests.append(None)
    return digests


def policy_material(config: Config) -> dict[str, Any]:
    """Everything in the configuration that can change a gate decision."""
    return {
        "policy_version": config.policy_version,
        "unknown_policy": config.unknown_policy,
        "unvetted_tool_policy": config.unvetted_tool_policy,
        "tools": [[t.pattern, t.trains_on_inputs, t.enterprise] for t in config.tools],
        "signatures": [sorted(s.items()) for s in config.extra_signatures],
        "trust_anchors": _file_digests(config.trust_anchor_files),
        "capture_anchors": _file_digests(host_capture_anchors()),
        "approvals_dir": config.approvals_dir,
        "approvers_required": {str(scope): n for scope, n in config.approvers_required},
        "approvers_sha256": _file_digests([config.effective_approvers_file])[0],
    }


def policy_digest(config: Config) -> str:
    return _digest(policy_material(config))
