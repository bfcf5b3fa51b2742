"""Where approvals live on disk, and gathering every approval for one asset.

An approval travels with the package as a portable file, so a transfer host without the
ledger can still verify it:
- beside the asset: `shot.mov.approval.json`, or
- when `[approvals] package_folder = "approvals"` is configured, in that folder at the top of
  the package, mirroring the path: `DELIVERY/approvals/REEL1/shot.mov.approval.json`.
  Lookup walks upward from the asset to the configuration's base folder (or the mount point,
  for assets outside it); `approve` writes into the nearest existing approvals folder, or makes
  one beside the asset when there is none yet.

A portable file holds {"schema", "approvals": [DSSE envelope, …]}; a bare envelope or a list
of envelopes (another tool's output) is read too. Every approval, from a file or the ledger,
is verified against the asset's CURRENT sha256; nothing is trusted for where it was found.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from provenance import sidecars
from provenance._os import read_regular, write_atomic
from provenance.approvals import dsse
from provenance.approvals.registry import ApproverRegistry
from provenance.approvals.statement import MAX_STATEMENT_BYTES, NOT_DERIVED_PREDICATE, canonical_json
from provenance.approvals.verify import VerifiedApproval, verify_approval
from provenance.config import Config
from provenance.errors import ApprovalError, TrustError

if TYPE_CHECKING:
    from provenance.ledger_view import LedgerView

SUFFIX = sidecars.APPROVAL
FILE_SCHEMA = "https://provenance-tool.org/approval-file/v1"
_MAX_DEPTH = 64


def _boundary(folder: Path, config: Config) -> Iterator[Path]:
    """`folder` and its parents, up to and including the base folder or the mount point."""
    base = config.base_dir.resolve()
    inside = folder == base or base in folder.parents
    for depth, current in enumerate((folder, *folder.parents)):
        yield current
        if depth >= _MAX_DEPTH or (current == base if inside else os.path.ismount(current)):
            return


def candidate_files(path: Path, config: Config) -> list[Path]:
    """Every place a portable approval for `path` may be, nearest first."""
    out: list[Path] = []
    targets = [Path(os.path.abspath(path))]
    with contextlib.suppress(OSError):
        real = Path(os.path.realpath(path))
        if real != targets[0]:
            targets.append(real)  # a symlinked asset: its approval may travel with the target
    for target in targets:
        out.append(Path(sidecars.named(target, SUFFIX)))
        if config.approvals_dir:
            for folder in _boundary(target.parent, config):
                rel = target.relative_to(folder)
                out.append(folder / config.approvals_dir / rel.parent / (rel.name + SUFFIX))
    return list(dict.fromkeys(out))


def portable_path(path: Path, config: Config) -> Path:
    """Where `approve` writes the portable record for `path`."""
    target = Path(os.path.abspath(path))
    if not config.approvals_dir:
        return Path(sidecars.named(target, SUFFIX))
    for folder in _boundary(target.parent, config):
        if (folder / config.approvals_dir).is_dir():
            rel = target.relative_to(folder)
            return folder / config.approvals_dir / rel.parent / (rel.name + SUFFIX)
    return target.parent / config.approvals_dir / (target.name + SUFFIX)


def read_portable(file: Path) -> list[dict[str, Any]]:
    try:
        # never more than the bound into memory, and never blocked on a FIFO put in its place
        data = read_regular(file, dsse.MAX_JSON_BYTES + 1)
    except OSError as exc:
        raise ApprovalError(f"unreadable approval file: {exc.strerror or exc}", file) from None
    try:
        doc = dsse.load_json(data, "unreadable approval file: the file")
    except ApprovalError as exc:
        raise ApprovalError(exc.reason, file) from None
    if isinstance(doc, dict) and "approvals" in doc:
        doc = doc["approvals"]
    envelopes = doc if isinstance(doc, list) else [doc]
    return [e for e in envelopes if isinstance(e, dict)] if isinstance(envelopes, list) else []


def peek(envelope: dict[str, Any]) -> tuple[str | None, str | None]:
    """(subject sha256, predicateType) of a record, unverified: housekeeping (which records are
    stale) and routing (an approval, or a not-derived-from record) only, never a trust decision."""
    try:
        doc = dsse.load_json(dsse.parse(envelope).payload, "the payload", MAX_STATEMENT_BYTES)
    except ApprovalError:
        return None, None
    if not isinstance(doc, dict):
        return None, None
    kind = doc.get("predicateType") if isinstance(doc.get("predicateType"), str) else None
    subjects = doc.get("subject")
    subject = subjects[0] if isinstance(subjects, list) and len(subjects) == 1 else None
    digest = subject.get("digest") if isinstance(subject, dict) else None
    sha = digest.get("sha256") if isinstance(digest, dict) else None
    return (sha.lower() if isinstance(sha, str) else None), kind


def write_portable(path: Path, envelope: dict[str, Any], sha256: str, config: Config) -> Path:
    """Add `envelope` to the portable file for `path`, atomically; return the file.

    Approvals for other bytes (the asset has changed since) are dropped from the file: they can
    never verify for it again, and the ledger keeps them. Other approvals of the same bytes —
    another approver, another scope — are kept.
    """
    file = portable_path(path, config)
    existing = read_portable(file) if file.exists() else []
    keep = [e for e in existing if peek(e)[0] == sha256.lower()]
    seen = {canonical_json(e) for e in keep}
    if canonical_json(envelope) not in seen:
        keep.append(envelope)
    doc = {"schema": FILE_SCHEMA, "approvals": keep}
    file.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(file, (json.dumps(doc, indent=2, sort_keys=True) + "\n").encode("utf-8"))
    return file


def gather_envelopes(path: Path | None, sha256: str, config: Config, ledger: LedgerView | None
                     ) -> tuple[list[tuple[str, dict[str, Any]]], list[str]]:
    """Every signed record for these bytes, each once, labelled by where it was found: the
    portable files near `path`, then the ledger's; and one reason per unreadable file.
    Approvals and not-derived records travel the same ways; each reader verifies its own kind."""
    found: list[tuple[str, dict[str, Any]]] = []
    reasons: list[str] = []
    for file in candidate_files(path, config) if path is not None else ():
        if not file.is_file():
            continue
        label = config.relative(file)
        try:
            found.extend((label, env) for env in read_portable(file))
        except ApprovalError as exc:
            reasons.append(f"{label}: {exc.reason}")
    if ledger is not None:
        found.extend(("ledger", env) for env in ledger.approvals_for(sha256))
    once: list[tuple[str, dict[str, Any]]] = []
    seen: set[bytes] = set()
    for label, envelope in found:
        key = canonical_json(envelope)
        if key not in seen:  # the same record in the ledger and in a portable file
            seen.add(key)
            once.append((label, envelope))
    return once, reasons


def find_approvals(
    path: Path | None,
    sha256: str,
    config: Config,
    ledger: LedgerView | None,
    *,
    registry: ApproverRegistry | None = None,
    now: dt.datetime | None = None,
) -> tuple[list[VerifiedApproval], list[str]]:
    """Every approval found for `path` verified against `sha256`: (valid ones, one reason per invalid one).
    `path` None: the asset is at no known path any more, so only the ledger's records count."""
    if registry is None:
        try:
            registry = ApproverRegistry.load(config)
        except TrustError as exc:
            # Fail closed, never crash the caller (the daemon must still open the finding).
            return [], [f"no approval can be trusted: {exc}"]
    found, reasons = gather_envelopes(path, sha256, config, ledger)
    valid: list[VerifiedApproval] = []
    for label, envelope in found:
        if peek(envelope)[1] == NOT_DERIVED_PREDICATE:  # not an approval: approvals/not_derived.py reads it
            continue
        try:
            valid.append(verify_approval(envelope, sha256, registry, now,
                                         current_name=None if path is None else Path(path).name))
        except ApprovalError as exc:
            reasons.append(f"{label}: {exc.reason}")
    return valid, reasons
