"""`provenance approve PATH... --scope S --ref REF --key FILE`: sign approvals of exact bytes."""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click

from provenance.approvals import ApproverRegistry, find_approvals, sign_approval, write_portable
from provenance.approvals.clearing import clear_findings
from provenance.approvals.embed import approval_assertion, embed_approval
from provenance.approvals.keys import load_private
from provenance.approvals.lookup import portable_path
from provenance.approvals.registry import parse_expiry, parse_scopes
from provenance.approvals.sign import approver_for_key
from provenance.approvals.statement import format_time
from provenance.cli.options import config_option, json_option, scopes_option, trust_option
from provenance.cli.output import emit
from provenance.config import Config, load_config
from provenance.errors import EXIT_OK, EXIT_UNDECIDED, ApprovalError, ProvenanceError
from provenance.identify import sha256_file
from provenance.imf.approval import outside_package, package_subject
from provenance.imf.package import enclosing_package, is_package
from provenance.ledger import Ledger
from provenance.model import Scope
from provenance.wording import plural


@dataclass
class Outcome:
    path: str
    sha256: str | None = None
    portable: str | None = None
    cleared: list[dict[str, Any]] = field(default_factory=list)
    approval: dict[str, Any] | None = None
    error: str | None = None
    embedded: bool = False
    sha256_before_embed: str | None = None
    note: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "ok": self.error is None, "sha256": self.sha256,
                "portable": self.portable, "approval": self.approval,
                "findings_cleared": self.cleared, "embedded": self.embedded,
                "sha256_before_embed": self.sha256_before_embed, "note": self.note,
                "error": self.error}


def _hash_unchanging(path: Path) -> str:
    """sha256 of `path`, refusing a file that changed while it was read (still being written)."""
    if not path.is_file():
        raise ApprovalError("not a regular file (approve names files; use a shell glob for a folder)", path)
    before = os.stat(path)
    sha = sha256_file(path)
    after = os.stat(path)
    if (after.st_ino, after.st_size, after.st_mtime_ns, after.st_ctime_ns) != \
            (before.st_ino, before.st_size, before.st_mtime_ns, before.st_ctime_ns):
        raise ApprovalError("file changed while it was being hashed; approve it once it is final", path)
    return sha


def _approve_one(path: Path, key: Any, registry: ApproverRegistry, config: Config, ledger: Ledger,
                 scopes: frozenset[Scope], ref: str, expires: dt.datetime | None, note: str,
                 embed: bool = False) -> Outcome:
    out = Outcome(str(path))
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    embedded_sha: str | None = None
    if is_package(path):
        return _approve_package(path, key, registry, config, ledger, scopes, ref, expires, note, embed, now)
    package = enclosing_package(path)
    if package is not None:  # its approval file (or --embed) would change the package
        raise ApprovalError(f"inside the IMF package {package}: approve the package folder instead "
                            "(nothing may be written inside it)", path)
    if embed:
        # Changes the bytes, so it comes first; the approval below binds to the final bytes.
        # Anything sign_approval would refuse (expiry in the past, empty --ref) is refused
        # before the bytes change: sign a throwaway approval of the current bytes first.
        sign_approval(key, registry, subject_name=path.name, sha256=_hash_unchanging(path),
                      scopes=scopes, reference=ref, expires_at=expires, note=note,
                      policy_version=config.policy_version, now=now)
        approver = approver_for_key(key, registry, scopes, now)
        result = embed_approval(path, config, approval_assertion(
            approver=approver.name, email=approver.email, scopes=(s.value for s in scopes),
            reference=ref, issued_at=now, expires_at=expires, note=note))
        out.embedded, out.note = result.embedded, result.note
        out.sha256_before_embed = result.sha256_before if result.embedded else None
        embedded_sha = result.sha256_after
    sha = out.sha256 = _hash_unchanging(path)
    if embedded_sha is not None and sha != embedded_sha:
        raise ApprovalError("file changed right after the approval was embedded; approve it once "
                            "it is final", path)
    envelope, verified = sign_approval(key, registry, subject_name=path.name, sha256=sha, scopes=scopes,
                                       reference=ref, expires_at=expires, note=note,
                                       policy_version=config.policy_version, now=now)
    # Portable record first: it is what travels with the package to a host without the ledger.
    out.portable = str(write_portable(path, envelope, sha, config))
    ledger.record_approval(envelope, sha, verified.approver, sorted(s.value for s in verified.scopes),
                           verified.reference, format_time(expires) if expires else None)
    out.approval = verified.to_dict()
    # Every valid approval of these bytes counts (another approver may hold the other scope).
    valid, _ = find_approvals(path, sha, config, ledger, registry=registry)
    cleared = clear_findings(ledger, sha, valid, f"approved by {verified.approver} ({verified.reference})",
                             config)
    out.cleared = [{"rule": f.rule, "path": f.path} for f in cleared]
    return out


def _approve_package(path: Path, key: Any, registry: ApproverRegistry, config: Config, ledger: Ledger,
                     scopes: frozenset[Scope], ref: str, expires: dt.datetime | None, note: str, embed: bool,
                     now: dt.datetime) -> Outcome:
    """An IMF package: one approval bound to its (asset UUID, sha256) set, written beside the
    package (never inside: the PKL would no longer describe it) and into the ledger."""
    if embed:
        raise ApprovalError("--embed cannot write into an IMF package (its PKL would no longer match)", path)
    out = Outcome(str(path))
    sha = out.sha256 = package_subject(path)
    portable = outside_package(portable_path(path, config), path)
    envelope, verified = sign_approval(key, registry, subject_name=path.name, sha256=sha, scopes=scopes,
                                       reference=ref, expires_at=expires, note=note,
                                       policy_version=config.policy_version, now=now)
    out.portable = str(write_portable(path, envelope, sha, config))
    assert out.portable == str(portable)
    ledger.record_approval(envelope, sha, verified.approver, sorted(s.value for s in verified.scopes),
                           verified.reference, format_time(expires) if expires else None)
    out.approval = verified.to_dict()
    out.note = "IMF package: bound to the set of its assets' UUIDs and sha256"
    return out


@click.command("approve")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@scopes_option
@click.option("--ref", required=True, help="Ticket or email id of the written approval.")
@click.option("--key", "key_file", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Your approver private key (from `provenance keys new`).")
@click.option("--expires", help="Last day (YYYY-MM-DD, UTC) or ISO time the approval holds.")
@click.option("--note", default="", help="Free text kept in the signed approval.")
@click.option("--embed", is_flag=True,
              help="Also write the approval into the file's C2PA manifest (history kept), signed "
                   "with the production's identity (`provenance signer init`). The bytes change, so "
                   "the approval is signed over the new bytes. Skipped with a note for formats C2PA "
                   "cannot embed in (EXR, DPX, MXF, MKV…). Informational: the gate trusts only the "
                   "signed approval record.")
@json_option
@trust_option
@config_option
def command(paths: tuple[Path, ...], scopes: tuple[str, ...], ref: str, key_file: Path,
            expires: str | None, note: str, embed: bool, as_json: bool, config_path: Path | None) -> int:
    """Sign an approval bound to each file's current bytes.

    Writes <file>.approval.json beside it (or into the package approvals folder), records it in
    the ledger, and closes the watch daemon's open findings it clears. Change one byte of the
    file and the approval no longer applies. Exit 0 when every file is approved, 3 otherwise.
    """
    if not ref.strip():
        raise click.UsageError("--ref names the written approval (a ticket or email id); it cannot be empty")
    try:
        scope_set = parse_scopes(list(scopes))
    except ApprovalError as exc:
        raise click.UsageError(exc.reason) from None
    config = load_config(config_path)
    registry = ApproverRegistry.load(config)
    try:
        expires_at = parse_expiry(expires) if expires else None
    except ApprovalError as exc:
        raise click.UsageError(exc.reason) from None
    key = load_private(key_file)
    # Refuse before touching anything when this key may not sign these scopes at all.
    approver_for_key(key, registry, scope_set, dt.datetime.now(dt.UTC))

    outcomes: list[Outcome] = []
    with Ledger.open(config.effective_ledger_url) as ledger:
        for path in paths:
            try:
                outcome = _approve_one(path, key, registry, config, ledger, scope_set, ref, expires_at, note,
                                       embed)
            except ProvenanceError as exc:
                outcome = Outcome(str(path), error=exc.reason)
            outcomes.append(outcome)
            if not as_json:
                click.echo(_line(outcome), err=outcome.error is not None)
    code = EXIT_UNDECIDED if any(o.error for o in outcomes) else EXIT_OK
    if as_json:
        emit("approve", {"results": [o.to_dict() for o in outcomes], "exit_code": code}, ensure_ascii=False)
    return code


def _line(o: Outcome) -> str:
    if o.error:
        return f"FAIL      {o.path} — {o.error}"
    assert o.approval is not None and o.sha256 is not None
    line = (f"approved  {o.path}  sha256 {o.sha256[:12]}…  {', '.join(o.approval['scopes'])}"
            f"  by {o.approval['approver']}  → {o.portable}")
    if o.cleared:
        line += f"  (cleared {plural(len(o.cleared), 'open finding')}: " \
                f"{', '.join(sorted({c['rule'] for c in o.cleared}))})"
    if o.embedded:
        assert o.sha256_before_embed is not None
        line += f"  (embedded in C2PA; bytes were sha256 {o.sha256_before_embed[:12]}…)"
    if o.note:
        line += f"  — {o.note}"
    return line
