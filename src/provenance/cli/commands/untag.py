"""`provenance untag FILE... --reason TEXT --key APPROVER_KEY`: withdraw a tag made by mistake.

A thin command over `approvals.retraction` (who may), `tagging.untag` (the file's marks) and
the ledger (`record_untag`). Per file: find the tag event that made these bytes, sign the
retraction, remove what the tag wrote, record the retraction, and say what the file's own
evidence says now (a generator's marks keep their class: an untag only withdraws a tag).
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click

from provenance.approvals import ApproverRegistry
from provenance.approvals.keys import load_private
from provenance.approvals.retraction import sign_retraction
from provenance.approvals.sign import approver_for_key
from provenance.cli.options import config_option, json_option, trust_option
from provenance.cli.output import emit
from provenance.config import load_config
from provenance.errors import EXIT_BLOCKED, EXIT_OK, EXIT_UNDECIDED, ProvenanceError
from provenance.evidence import ReaderSettings
from provenance.identify import sha256_file
from provenance.ledger import Ledger
from provenance.pathtext import shown
from provenance.pipeline import Inspector
from provenance.tagging.untag import Untagger, withdrawals


@dataclass
class Result:
    path: str
    outcome: str  # withdrawn | refused | error
    reason: str | None = None
    tag_event: int | None = None
    approver: str | None = None
    stripped: dict[str, Any] = field(default_factory=dict)
    withdrawn: dict[str, list[int]] = field(default_factory=dict)
    classification_now: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "outcome": self.outcome, "reason": self.reason,
                "tag_event": self.tag_event, "approver": self.approver, **self.stripped,
                "withdrawn": self.withdrawn, "classification_now": self.classification_now}


@click.command("untag")
@click.argument("paths", nargs=-1, required=True,
                type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--reason", required=True, help="Why the tag was a mistake (kept in the signed record).")
@click.option("--key", "key_file", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="An approver's private key: a retraction lowers a class, so it needs an active "
                   "approver of the signed registry, not the artists' signing key.")
@json_option
@trust_option
@config_option
def command(paths: tuple[Path, ...], reason: str, key_file: Path, as_json: bool,
            config_path: Path | None) -> int:
    """Withdraw `provenance tag` declarations made by mistake.

    Signs a retraction of the tag event that made each file's bytes, removes the marks that
    tag wrote (our XMP, the IPTC values it replaced put back, our C2PA manifest where it is
    the whole store, a sidecar it created), and records the retraction in the ledger: the tag
    event stays in the history, and memory no longer says AI from it. A file's own evidence (a
    generator's C2PA or XMP) is never removed and keeps its class. Exit 0 when every tag was
    withdrawn, 1 if a file has no recorded tag to withdraw, 3 if any file failed.
    """
    if not " ".join(reason.split()):
        raise click.UsageError("--reason must say why the tag was a mistake")
    config = load_config(config_path)
    registry = ApproverRegistry.load(config)
    key = load_private(key_file)
    approver_for_key(key, registry, (), dt.datetime.now(dt.UTC))  # refuse before touching anything
    anchors = config.trust_anchors_pem()
    results: list[Result] = []
    with (Ledger.open(config.effective_ledger_url) as ledger, Untagger(anchors) as untagger,
          Inspector(ReaderSettings(trust_anchors_pem=anchors)) as inspector):
        for path in paths:
            try:
                result = _untag_one(path, reason, key, registry, ledger, untagger, inspector)
            except ProvenanceError as exc:
                result = Result(str(path), "error", reason=exc.reason)
            except OSError as exc:
                result = Result(str(path), "error", reason=str(exc.strerror or exc))
            results.append(result)
            if not as_json:
                click.echo(_line(result))
    code = (EXIT_UNDECIDED if any(r.outcome == "error" for r in results)
            else EXIT_BLOCKED if any(r.outcome == "refused" for r in results) else EXIT_OK)
    if as_json:
        emit("untag", {"results": [r.to_dict() for r in results], "exit_code": code}, ensure_ascii=False)
    return code


def _untag_one(path: Path, reason: str, key: Any, registry: ApproverRegistry, ledger: Ledger,
               untagger: Untagger, inspector: Inspector) -> Result:
    sha = sha256_file(path)
    tags = ledger.recorded_tags(sha)
    if not tags:
        return Result(str(path), "refused", reason=(
            f"no `provenance tag` of these bytes (sha256 {sha[:12]}…) is recorded in the ledger, or "
            "it was withdrawn already: an untag withdraws only what a tag asserted"))
    tag = tags[-1]
    withdrawn = withdrawals(ledger, tag, sha)
    # The approver was checked before any file was touched; signing after the strip lets the
    # record name the bytes it left (which then show the withdrawal in `inspect`). A failure
    # between the two leaves the ledger remembering AI: the safe side.
    stripped = untagger.strip(path, tag["payload"].get("prior"))
    withdrawn.setdefault(stripped.sha256_after, [])
    envelope, approver = sign_retraction(key, registry, tag_event=tag["id"], tag_event_hash=tag["row_hash"],
                                         sha256=sha, path=path.name, reason=reason, withdrawn=withdrawn)
    ledger.record_untag(os.path.abspath(path), sha, {
        "tag_event": tag["id"], "tag_event_hash": tag["row_hash"], "tag_path": tag["path"],
        "sha256_before": tag["payload"].get("sha256_before"), "sha256_after": stripped.sha256_after,
        "reason": " ".join(reason.split()), "approver": approver.name, "withdrawn": withdrawn,
        "removed": list(stripped.removed), "kept": list(stripped.kept), "envelope": envelope})
    now = inspector.inspect(path)
    return Result(str(path), "withdrawn", tag_event=tag["id"], approver=approver.name,
                  stripped=stripped.to_dict(), withdrawn=withdrawn,
                  classification_now=str(now.classification))


def _line(r: Result) -> str:
    if r.outcome != "withdrawn":
        return f"{r.outcome:<9}  {shown(r.path)}  — {r.reason}"
    removed = ", ".join(r.stripped.get("removed") or ()) or "nothing in the file"
    line = (f"withdrawn  {shown(r.path)}  tag event {r.tag_event} by {r.approver}; removed {removed}; "
            f"the file's own evidence now says {r.classification_now}")
    for kept in r.stripped.get("kept") or ():
        line += f"\n           kept: {kept}"
    return line
