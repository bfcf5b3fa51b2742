"""`provenance signer init`: create the production's C2PA signing identity.

The identity (CA + ES256 leaf, keys 0600 in a 0700 folder) goes to the configuration's
signing folder: `<project>/.provenance/signing/` beside a provenance.toml, else
`~/.config/provenance/signing/`. The configuration trusts the CA in that folder
automatically, so our own signatures read `trusted`. With `--dir` elsewhere the folder
is recorded as `[signing] dir` in provenance.toml, which makes it the trusted one.
"""

from __future__ import annotations

import json
import os
import tomllib
from pathlib import Path

import click

from provenance.cli.options import json_option
from provenance.config import Config, load_config
from provenance.errors import ConfigError
from provenance.identity import create_identity


@click.group("signer")
def command() -> None:
    """The production's C2PA signing identity."""


def _register(config: Config, directory: Path) -> str:
    """Make `directory` the configuration's signing folder; say how it is trusted."""
    if directory.resolve() == config.signing_identity_dir.resolve():
        return "trusted by this configuration (its own signing CA)"
    if config.file is None:
        return ("NOT registered: there is no provenance.toml; pass this folder's ca.pem as a "
                "trust anchor where you read, or run `provenance init` first")
    if "signing" in config.raw:
        raise ConfigError(f"already has a [signing] table; set dir = \"{directory}\" there by hand",
                          config.file)
    text = config.file.read_text(encoding="utf-8")
    addition = f"\n[signing]\n# Made by `provenance signer init`.\ndir = {json.dumps(str(directory))}\n"
    tomllib.loads(text + addition)  # never leave an unparsable file behind
    with open(config.file, "a", encoding="utf-8") as fh:
        fh.write(addition)
    return f"registered as [signing] dir in {config.file} (its CA is trusted)"


@command.command("init")
@click.option("--org", default="Production", show_default=True,
              help="Organisation named in the certificates.")
@click.option("--dir", "directory", type=click.Path(file_okay=False, path_type=Path),
              help="Where to write it (default: the configuration's signing folder).")
@click.option("--force", is_flag=True, help="Replace an existing identity (old signatures stay "
                                            "valid but will no longer read trusted).")
@click.option("--config", "config_file", type=click.Path(path_type=Path),
              help="provenance.toml to use (default: search upward).")
@json_option
def init(org: str, directory: Path | None, force: bool, config_file: Path | None, as_json: bool) -> None:
    """Create a CA and an ES256 signing certificate that c2pa accepts."""
    config = load_config(config_file)
    target = (directory or config.signing_identity_dir).absolute()
    target.mkdir(parents=True, exist_ok=True)
    os.chmod(target, 0o700)  # private keys live here
    identity = create_identity(target, org, overwrite=force)
    how = _register(config, target)
    if as_json:
        click.echo(json.dumps({"directory": str(target), "chain": str(identity.chain_path),
                               "ca": str(identity.ca_path), "trust": how}))
        return
    click.echo(f"created signing identity in {target}")
    click.echo(f"  certificate chain: {identity.chain_path}")
    click.echo(f"  CA certificate:    {identity.ca_path} — {how}")
    click.echo("  private keys: 0600, never printed; back them up like any other secret")
