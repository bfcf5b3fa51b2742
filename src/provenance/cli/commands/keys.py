"""`provenance keys new --out FILE`: an Ed25519 approver key pair (FILE 0600, FILE.pub)."""

from __future__ import annotations

from pathlib import Path

import click

from provenance.approvals.keys import new_keypair
from provenance.cli.options import config_option, json_option
from provenance.cli.output import emit


@click.group("keys")
def command() -> None:
    """Approver signing keys (Ed25519)."""


@command.command("new")
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Private key file to write (0600); the public key goes to FILE.pub.")
@click.option("--force", is_flag=True, help="Replace an existing key pair.")
@json_option
@config_option
def new(out: Path, force: bool, as_json: bool, config_path: Path | None) -> None:
    """Make an approver key. Keep FILE private; give FILE.pub to whoever keeps the approvers file.

    The private key is never printed.
    """
    pub, kid = new_keypair(out, force=force)
    if as_json:
        emit("keys", {"private_key": str(out), "public_key": str(pub), "key_id": kid})
        return
    click.echo(f"private key  {out}  (mode 0600: keep it to yourself)")
    click.echo(f"public key   {pub}")
    click.echo(f"key id       {kid}")
    click.echo(f"next: provenance approvers add NAME --email E --public-key {pub} --scopes …")
