"""`provenance init [DIR]`: write a commented provenance.toml for a show."""

from __future__ import annotations

import json
from importlib.resources import files
from pathlib import Path

import click

from provenance.cli.options import json_option
from provenance.config import CONFIG_NAME, STATE_DIR
from provenance.errors import ConfigError
from provenance.identity import write_public


@click.command("init")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path), default=".")
@click.option("--force", is_flag=True, help="Overwrite an existing provenance.toml.")
@json_option
def command(directory: Path, force: bool, as_json: bool) -> None:
    """Write a commented DIR/provenance.toml (roots, zones, settle, ledger, policy)."""
    target = directory / CONFIG_NAME
    if target.exists() and not force:
        raise ConfigError("already exists (use --force to overwrite)", target)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / STATE_DIR).mkdir(exist_ok=True)
    template = files("provenance").joinpath("data/provenance.toml.template").read_text()
    write_public(target, template.encode())
    if as_json:
        click.echo(json.dumps({"config": str(target.resolve())}))
        return
    click.echo(f"wrote {target}")
    click.echo("next: `provenance signer init` (C2PA signing identity), `provenance approvers init "
               "--admin-key KEY` (the signed approvers registry; hosts pin KEY.pub in "
               "/etc/provenance/trust.toml), then `provenance watch`")
