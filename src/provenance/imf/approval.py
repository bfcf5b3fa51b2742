"""What an approval of an IMF package is bound to: the package's (asset UUID, sha256) set.

An approval's subject stays one in-toto subject with a sha256 digest (the approval format is
unchanged); for a package that digest is of the canonical set of every asset its PKLs list,
each with the sha256 we computed from its bytes (never a hash the package states). Change,
add or remove one asset, or give one another UUID, and the digest differs, so the approval
no longer verifies: `verify_approval` checks it exactly as it checks a file's bytes.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from pathlib import Path

from provenance.approvals.statement import canonical_json
from provenance.errors import ApprovalError

DOMAIN = b"provenance.imf-asset-set/v1\n"  # a set digest can never be mistaken for a file's


def asset_set_digest(listed: Mapping[str, str | None]) -> str | None:
    """sha256 over the sorted [UUID, sha256] pairs; None when an asset has no sha256 (missing,
    unreadable): an incomplete package has no set to approve."""
    if not listed or any(sha is None for sha in listed.values()):
        return None
    pairs = sorted([uid.lower(), str(sha)] for uid, sha in listed.items())
    return hashlib.sha256(DOMAIN + canonical_json(pairs)).hexdigest()


def package_subject(root: Path) -> str:
    """The digest `approve` signs for the package at `root`: refused (ApprovalError naming
    every problem) unless the package verifies, since the gate would block it anyway."""
    from provenance.imf.package import open_package

    pkg = open_package(root)
    if pkg.problems:
        raise ApprovalError("the IMF package does not verify, so it cannot be approved: "
                            + "; ".join(p.reason for p in pkg.problems), root)
    digest = asset_set_digest(pkg.listed())
    if digest is None:
        raise ApprovalError("the IMF package lists no assets to approve", root)
    return digest


def outside_package(portable: Path, root: Path) -> Path:
    """`portable` if it is outside the package, else ApprovalError: a file written inside would
    be one the PKL does not list, and break the package."""
    real, top = os.path.realpath(portable), os.path.realpath(root)
    if os.path.commonpath([real, top]) == top:
        raise ApprovalError(f"the approval file would be written inside the IMF package ({portable}); "
                            "configure [approvals] package_folder outside it", root)
    return portable
