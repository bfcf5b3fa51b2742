"""`provenance memory dismiss FILE... --original ORIGINAL --ref REF --key KEY`: clear a false
content-memory match with a signed not-derived-from record."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import click

from provenance.approvals import ApproverRegistry, write_portable
from provenance.approvals.keys import load_private
from provenance.approvals.not_derived import LEDGER_SCOPE, REQUIRED_SCOPE, sign_not_derived
from provenance.approvals.sign import approver_for_key
from provenance.cli.commands.approve import _hash_unchanging
from provenance.cli.options import config_option, json_option, trust_option
from provenance.cli.output import emit
from provenance.config import load_config
from provenance.errors import EXIT_OK, EXIT_UNDECIDED, ProvenanceError
from provenance.ledger import Ledger

_HEX64 = re.compile(r"[0-9a-fA-F]{64}")


@click.group("memory")
def command() -> None:
    """Content memory: what the ledger remembers an AI asset looks and sounds like."""


def _original(spec: str) -> tuple[str, str]:
    """(sha256, name) of ORIGINAL: a file, or the sha256 the gate's message names."""
    if _HEX64.fullmatch(spec) and not Path(spec).exists():
        return spec.lower(), ""
    path = Path(spec)
    return _hash_unchanging(path), path.name


@command.command("dismiss")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--original", required=True,
              help="The AI original the match named: its file, or its sha256.")
@click.option("--ref", required=True, help="Ticket or email id of the review that found no derivation.")
@click.option("--key", "key_file", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Your approver private key (an approver who may grant final-deliverable).")
@click.option("--note", default="", help="Free text kept in the signed record.")
@json_option
@trust_option
@config_option
def dismiss(paths: tuple[Path, ...], original: str, ref: str, key_file: Path, note: str, as_json: bool,
            config_path: Path | None) -> int:
    """Sign that each FILE is not derived from ORIGINAL.

    Content memory then no longer counts that match for these exact bytes (another derivative
    of ORIGINAL, or a match against another original, still does). Writes the record into
    <file>.approval.json (or the package approvals folder) and the ledger, like an approval.
    Exit 0 when every file got its record, 3 otherwise.
    """
    config = load_config(config_path)
    registry = ApproverRegistry.load(config)
    key = load_private(key_file)
    approver_for_key(key, registry, {REQUIRED_SCOPE}, dt.datetime.now(dt.UTC))  # refuse before anything
    try:
        original_sha, original_name = _original(original)
    except ProvenanceError as exc:
        raise click.UsageError(f"--original {original}: {exc.reason}") from None
    results: list[dict[str, Any]] = []
    with Ledger.open(config.effective_ledger_url) as ledger:
        for path in paths:
            result: dict[str, Any] = {"path": str(path), "ok": False, "sha256": None, "portable": None,
                                      "record": None, "error": None}
            try:
                sha = result["sha256"] = _hash_unchanging(path)
                envelope, record = sign_not_derived(
                    key, registry, subject_name=path.name, sha256=sha, original_sha256=original_sha,
                    original_name=original_name, reference=ref, note=note)
                result["portable"] = str(write_portable(path, envelope, sha, config))
                ledger.record_approval(envelope, sha, record.approver, [LEDGER_SCOPE], record.reference, None)
                result.update(ok=True, record=record.to_dict())
            except ProvenanceError as exc:
                result["error"] = exc.reason
            results.append(result)
            if not as_json:
                click.echo(_line(result), err=not result["ok"])
    code = EXIT_OK if all(r["ok"] for r in results) else EXIT_UNDECIDED
    if as_json:
        emit("memory-dismiss", {"results": results, "exit_code": code}, ensure_ascii=False)
    return code


def _line(r: dict[str, Any]) -> str:
    if not r["ok"]:
        return f"FAIL       {r['path']} — {r['error']}"
    rec = r["record"]
    return (f"dismissed  {r['path']}  sha256 {r['sha256'][:12]}…  not derived from "
            f"{rec['original_name'] or rec['original_sha256'][:12] + '…'}  by {rec['approver']}  → "
            f"{r['portable']}")
