"""`provenance ledger verify|checkpoint|info`: check the ledger's hash chain; sign its head;
show what it holds.

verify exits 0 when every event fits the chain, every given checkpoint still holds and every
state table is what the events make it; 1 when history was edited, deleted or rewritten
(naming the first bad event) or a state row was edited (naming each one); 3 when the ledger
cannot be reached or a checkpoint cannot be used.
"""

from __future__ import annotations

import json
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from provenance._os import write_atomic
from provenance.approvals.keys import load_private, load_public
from provenance.checkpoint import Checkpoint, CheckpointError, check, open_checkpoint, sign_checkpoint
from provenance.cli.options import config_option, json_option
from provenance.cli.output import emit
from provenance.config import load_config
from provenance.errors import EXIT_BLOCKED, LedgerError
from provenance.ledger import Ledger
from provenance.wording import plural


def _open(config_path: Path | None, url: str | None) -> Ledger:
    # Never create one here: an audit of a deleted ledger must fail, not verify an empty one.
    return Ledger.open(url or load_config(config_path).effective_ledger_url, create=False)


url_option = click.option("--url", default=None,
                          help="Ledger URL (sqlite:///… or postgresql+psycopg://…); default from config.")


@click.group("ledger")
def command() -> None:
    """The append-only, hash-chained ledger."""


@command.command("verify")
@json_option
@config_option
@url_option
@click.option("--checkpoint", "checkpoints", multiple=True,
              type=click.Path(dir_okay=False, path_type=Path),
              help="A signed checkpoint (from `ledger checkpoint`) the history must still hold; repeatable.")
@click.option("--public-key", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="The public key the checkpoints were signed with (FILE.pub from `keys new`).")
@click.pass_context
def verify(ctx: click.Context, as_json: bool, config_path: Path | None, url: str | None,
           checkpoints: tuple[Path, ...], public_key: Path | None) -> None:
    """Recompute the event hash chain and every state table from it: exit 1 if any history row
    was edited or deleted, or any state row (an asset's memory, a location's hash, a
    finding's status, …) differs from what the events say — each difference is named.

    With --checkpoint, also exit 1 if the history a checkpoint signed was rewritten, even
    with every hash recomputed; exit 3 if a checkpoint is unreadable or not signed by
    --public-key.
    """
    if checkpoints and public_key is None:
        raise click.UsageError("--checkpoint needs --public-key (the key it was signed with)")
    signed = [(path, _read_checkpoint(path, public_key)) for path in checkpoints] if public_key else []
    with _open(config_path, url) as ledger:
        report, differences = ledger.audit()
        where = ledger.url
        # Only a chain that verifies says anything about a checkpoint: check them after.
        held = [(path, cp, check(ledger, cp) if report.ok else None) for path, cp in signed]
    broken = [(path, why) for path, _, why in held if why]
    ok = report.ok and not broken and not differences
    if as_json:
        listed = [{"file": str(path), **cp.to_dict(), "holds": report.ok and why is None, "reason": why}
                  for path, cp, why in held]
        emit("ledger-verify", {**report.to_dict(), "ok": ok, "ledger": where, "checkpoints": listed,
                               "state_differences": None if differences is None
                               else [d.to_dict() for d in differences],
                               "exit_code": 0 if ok else EXIT_BLOCKED}, default=str)
    elif not report.ok:
        click.echo(f"TAMPERED: {report.reason} (first bad event: {report.first_bad}; "
                   f"{plural(report.rows, 'event')} read; {where})")
    else:
        for path, why in broken:
            click.echo(f"TAMPERED: {why} ({path}; {where})")
        for d in differences or ():
            click.echo(f"TAMPERED: state table edited: {d}")
        if ok:
            holding = f"; {plural(len(signed), 'checkpoint holds', 'checkpoints hold')}" if signed else ""
            click.echo(f"ok: {plural(report.rows, 'event verifies', 'events verify')}{holding}; "
                       f"every state table matches them ({where})")
    if not ok:
        ctx.exit(EXIT_BLOCKED)


def _read_checkpoint(path: Path, public_key: Path) -> Checkpoint:
    try:
        envelope = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise CheckpointError(f"cannot read checkpoint: {exc.strerror}", path) from None
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as exc:  # RecursionError: nested deep
        raise CheckpointError(f"checkpoint is not JSON ({exc})", path) from None
    try:
        return open_checkpoint(envelope, load_public(public_key))
    except CheckpointError as exc:
        raise CheckpointError(exc.reason, path) from None


@command.command("checkpoint")
@json_option
@config_option
@url_option
@click.option("--key", "key_path", required=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Ed25519 private key to sign with (from `provenance keys new`).")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the signed checkpoint here (atomically) instead of to standard output.")
def checkpoint(as_json: bool, config_path: Path | None, url: str | None, key_path: Path,
               out: Path | None) -> None:
    """Sign the ledger's current head. Keep the file where the database's writers cannot reach
    (git, WORM storage, the studio's inbox); `ledger verify --checkpoint FILE --public-key
    KEY.pub` then proves the history up to it was not rewritten."""
    key = load_private(key_path)
    with _open(config_path, url) as ledger:
        report = ledger.verify()
        if not report.ok:  # never vouch for a history that is already broken
            raise LedgerError(f"not signing a checkpoint over a broken chain: {report.reason}")
        cp, envelope = sign_checkpoint(ledger, key)
    text = json.dumps(envelope, indent=2) + "\n"
    if out is not None:
        write_atomic(out, text.encode("utf-8"))
    if as_json:  # the envelope itself too when there is no file: stdout holds one JSON document
        emit("ledger-checkpoint", {"file": None if out is None else str(out), **cp.to_dict(),
                                   **({"envelope": envelope} if out is None else {})})
    elif out is None:
        click.echo(text, nl=False)
    else:
        click.echo(f"checkpoint: event {cp.last_id} ({cp.last_hash[:12]}…) signed → {out}")


@command.command("info")
@json_option
@config_option
@url_option
def info(as_json: bool, config_path: Path | None, url: str | None) -> None:
    """Backend, schema version and counts."""
    with _open(config_path, url) as ledger:
        stats = ledger.stats()
    if as_json:
        emit("ledger-info", stats)
        return
    table = Table(title="ledger", show_header=False)
    for key, value in stats.items():
        table.add_row(key, "" if value is None else str(value))
    Console().print(table)


@command.command("move")
@json_option
@config_option
def move(as_json: bool, config_path: Path | None) -> None:
    """Move a ledger kept in the show folder (where a config without [ledger] url used to put
    it) to this host's disk, verified, the original kept renamed. Stop the daemon first."""
    from provenance.ledger_location import move_to_host

    source, target, events = move_to_host(load_config(config_path))
    if as_json:
        emit("ledger-move", {"from": str(source), "to": str(target), "events": events})
    else:
        click.echo(f"moved {events} events: {source} → {target} (the original is kept as "
                   f"{source.name}.moved-*)")
