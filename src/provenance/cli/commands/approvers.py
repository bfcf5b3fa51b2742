"""`provenance approvers add|revoke|list`: edit the reviewed approvers file from scripts."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from provenance.approvals import ApproverRegistry
from provenance.approvals.keys import load_public
from provenance.approvals.registry import parse_scopes, parse_when
from provenance.approvals.statement import format_time
from provenance.cli.options import config_option, json_option
from provenance.config import load_config
from provenance.errors import ApprovalError


@click.group("approvers")
def command() -> None:
    """Who may sign approvals, with which key and scopes (the approvers file)."""


@command.command("add")
@click.argument("name")
@click.option("--email", required=True, help="The approver's email address.")
@click.option("--public-key", "public_key", required=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Their public key (FILE.pub from `keys new`, or an ssh-ed25519 .pub).")
@click.option("--scopes", required=True,
              help="Comma-separated: final-deliverable, talent-likeness, personal-data, third-party-ip.")
@click.option("--expires", help="Last day (YYYY-MM-DD, UTC) or ISO time their authority lasts.")
@json_option
@config_option
def add(name: str, email: str, public_key: Path, scopes: str, expires: str | None, as_json: bool,
        config_path: Path | None) -> None:
    """Add an approver (the key is copied inline, so the file reviews as one diff)."""
    try:
        scope_set = parse_scopes([scopes])
        until = parse_when(expires) if expires else None
    except ApprovalError as exc:
        raise click.UsageError(exc.reason) from None
    config = load_config(config_path)
    updated = ApproverRegistry.load(config).add(name, email, load_public(public_key), scope_set, until)
    added = updated.get(name)
    assert added is not None
    if as_json:
        click.echo(json.dumps(added.to_dict()))
    else:
        click.echo(f"added {added.name} (key id {added.key_id[:12]}…) to {updated.path}")
        click.echo("commit that file for review: it decides who may clear AI material for delivery")


@command.command("revoke")
@click.argument("name")
@json_option
@config_option
def revoke(name: str, as_json: bool, config_path: Path | None) -> None:
    """Revoke an approver: every approval they signed stops verifying."""
    config = load_config(config_path)
    updated = ApproverRegistry.load(config).revoke(name)
    revoked = updated.get(name)
    assert revoked is not None
    if as_json:
        click.echo(json.dumps(revoked.to_dict()))
    else:
        click.echo(f"revoked {revoked.name} in {updated.path}")


@command.command("list")
@json_option
@config_option
def list_(as_json: bool, config_path: Path | None) -> None:
    """List approvers, their scopes and status."""
    registry = ApproverRegistry.load(load_config(config_path))
    now = dt.datetime.now(dt.UTC)
    if as_json:
        click.echo(json.dumps({"file": str(registry.path),
                               "approvers": [a.to_dict() for a in registry.approvers]}, indent=2))
        return
    if not registry.approvers:
        click.echo(f"no approvers in {registry.path}")
        return
    table = Table(title=str(registry.path))
    for col in ("name", "email", "scopes", "expires", "status", "key id"):
        table.add_column(col)
    for a in registry.approvers:
        status = "revoked" if a.revoked else "expired" if a.expired(now) else "active"
        table.add_row(a.name, a.email, ", ".join(sorted(s.value for s in a.scopes)),
                      format_time(a.expires) if a.expires else "—", status, a.key_id[:12] + "…")
    Console(soft_wrap=True).print(table)
