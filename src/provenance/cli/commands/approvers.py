"""`provenance approvers init|add|revoke|list`: the signed approvers registry.

Every change is a new version signed by the production's admin key(s) (`--admin-key`, repeat it
for a threshold above one); hosts verify it against the admin keys pinned in their trust file.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from provenance.approvals import ApproverRegistry
from provenance.approvals.keys import load_private, load_public
from provenance.approvals.registry import parse_scopes, parse_when
from provenance.approvals.statement import format_time
from provenance.cli.options import config_option, json_option, scopes_option, trust_option
from provenance.cli.output import emit
from provenance.config import load_config
from provenance.errors import ApprovalError, ConfigError
from provenance.wording import plural

admin_key_option = click.option(
    "--admin-key", "admin_keys", multiple=True, required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="An admin private key that signs this version (repeat for a threshold above one).")


@click.group("approvers")
def command() -> None:
    """Who may sign approvals, with which key and scopes (the signed approvers registry)."""


@command.command("init")
@admin_key_option
@click.option("--threshold", type=click.IntRange(min=1), default=1, show_default=True,
              help="Admin signatures every version of this registry needs.")
@click.option("--show", "show", help="The show's name, signed into the registry (default: its folder name).")
@click.option("--from", "from_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Sign the approvers of an existing unsigned file (migration; written to the "
                   "configured approvers file).")
@json_option
@trust_option
@config_option
def init(admin_keys: tuple[Path, ...], threshold: int, show: str | None, from_file: Path | None,
         as_json: bool, config_path: Path | None) -> None:
    """Create the registry, version 1, signed by the admin key(s)."""
    config = load_config(config_path)
    target = config.effective_approvers_file
    text = None
    if from_file is not None:
        try:
            text = from_file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"cannot read approvers file: {exc}", from_file) from None
    registry = ApproverRegistry.init(target, show=show or config.base_dir.name, threshold=threshold,
                                     admin=[load_private(k) for k in admin_keys], from_text=text)
    if as_json:
        emit("approvers", _summary(registry))
        return
    click.echo(f"signed {registry.path} (show {registry.show!r}, version {registry.version}, "
               f"{plural(len(registry.approvers), 'approver')}, "
               f"{plural(len(registry.signed_by), 'admin signature')})")


@command.command("add")
@click.argument("name")
@click.option("--email", required=True, help="The approver's email address.")
@click.option("--public-key", "public_key", required=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Their public key (FILE.pub from `keys new`, or an ssh-ed25519 .pub).")
@scopes_option
@click.option("--expires", help="Last day (YYYY-MM-DD, UTC) or ISO time their authority lasts.")
@admin_key_option
@json_option
@trust_option
@config_option
def add(name: str, email: str, public_key: Path, scopes: tuple[str, ...], expires: str | None,
        admin_keys: tuple[Path, ...], as_json: bool, config_path: Path | None) -> None:
    """Add an approver (the key is copied inline, so the file reviews as one diff)."""
    try:
        scope_set = parse_scopes(scopes)
        until = parse_when(expires) if expires else None
    except ApprovalError as exc:
        raise click.UsageError(exc.reason) from None
    config = load_config(config_path)
    updated = ApproverRegistry.load(config).add(name, email, load_public(public_key), scope_set, until,
                                                admin=[load_private(k) for k in admin_keys])
    added = updated.get(name)
    assert added is not None
    if as_json:
        emit("approver", added.to_dict())
    else:
        click.echo(f"added {added.name} (key id {added.key_id[:12]}…) to {updated.path} "
                   f"(version {updated.version}, signed)")


@command.command("revoke")
@click.argument("name")
@admin_key_option
@json_option
@trust_option
@config_option
def revoke(name: str, admin_keys: tuple[Path, ...], as_json: bool, config_path: Path | None) -> None:
    """Revoke an approver: every approval they signed stops verifying."""
    config = load_config(config_path)
    updated = ApproverRegistry.load(config).revoke(name, admin=[load_private(k) for k in admin_keys])
    revoked = updated.get(name)
    assert revoked is not None
    if as_json:
        emit("approver", revoked.to_dict())
    else:
        click.echo(f"revoked {revoked.name} in {updated.path} (version {updated.version}, signed)")


def _summary(registry: ApproverRegistry) -> dict[str, object]:
    return {"file": str(registry.path), "show": registry.show, "version": registry.version,
            "signed_by": list(registry.signed_by), "approvers": [a.to_dict() for a in registry.approvers]}


@command.command("list")
@json_option
@trust_option
@config_option
def list_(as_json: bool, config_path: Path | None) -> None:
    """List approvers, their scopes and status (only from a registry that verifies)."""
    registry = ApproverRegistry.load(load_config(config_path))
    now = dt.datetime.now(dt.UTC)
    if as_json:
        emit("approvers", _summary(registry))
        return
    if not registry.approvers:
        click.echo(f"no approvers in {registry.path}")
        return
    table = Table(title=f"{registry.path} (show {registry.show!r}, version {registry.version}, signed)")
    for col in ("name", "email", "scopes", "expires", "status", "key id"):
        table.add_column(col)
    for a in registry.approvers:
        status = "revoked" if a.revoked else "expired" if a.expired(now) else "active"
        table.add_row(a.name, a.email, ", ".join(sorted(s.value for s in a.scopes)),
                      format_time(a.expires) if a.expires else "—", status, a.key_id[:12] + "…")
    Console(soft_wrap=True).print(table)
