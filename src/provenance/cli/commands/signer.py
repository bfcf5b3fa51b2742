"""`provenance signer init`: create the production's C2PA signing identity.

The signing certificate, its chain and key go to the configuration's signing folder:
`<project>/.provenance/signing/` beside a provenance.toml, else `~/.config/provenance/signing/`.
The configuration trusts the CA certificate in that folder automatically, so our own
signatures read `trusted`. With `--dir` elsewhere the folder is recorded as `[signing] dir` in
provenance.toml, which makes it the trusted one.

The signing key is 0600 for whoever ran this, or shared with one group of artists (`--group
artists`, mode 0640 unless `--mode` says otherwise; the folder then 0750 for that group), so
that every artist in it can `tag`. The CA's private key — whoever holds it can mint
certificates that read `trusted` — never goes there: it goes to `--ca-key PATH` (refused inside
the show tree or the signing folder), by default into this user's private state folder
(`$XDG_STATE_HOME/provenance/signing-ca/`, 0700), from where the operator can move it offline.
"""

from __future__ import annotations

import grp
import hashlib
import json
import os
import tomllib
from pathlib import Path

import click

from provenance.cli.options import json_option
from provenance.cli.output import emit
from provenance.config import Config, load_config
from provenance.errors import ConfigError, SigningError
from provenance.identity import check_key_mode, create_identity
from provenance.private_state import PrivateStateUnavailable, private_dir


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


def _group_id(name: str) -> int:
    try:
        return int(name) if name.isdigit() else grp.getgrnam(name).gr_gid
    except KeyError:
        raise click.BadParameter(f"no such group: {name}", param_hint="--group") from None


def _mode(text: str | None, shared: bool) -> int:
    if text is None:
        return 0o640 if shared else 0o600
    try:
        return check_key_mode(int(text, 8))
    except ValueError:
        raise click.BadParameter(f"not an octal mode: {text}", param_hint="--mode") from None
    except SigningError as exc:  # a mode the key may not have is a usage error, like a bad one
        raise click.BadParameter(exc.reason, param_hint="--mode") from None


def _inside(path: Path, folder: Path) -> bool:
    return Path(os.path.realpath(path)).is_relative_to(os.path.realpath(folder))


def _ca_key_path(config: Config, target: Path, chosen: Path | None) -> Path:
    """Where the CA key goes: the operator's choice, never inside the show or the signing folder."""
    if chosen is None:
        try:
            folder = private_dir("signing-ca")
        except PrivateStateUnavailable as exc:
            raise ConfigError(f"no private place for the CA key ({exc}); pass --ca-key PATH "
                              "outside the show") from None
        digest = hashlib.sha256(os.fsencode(os.path.realpath(target))).hexdigest()[:16]
        return folder / f"ca-{digest}.key"
    chosen = chosen.absolute()
    forbidden = [("the signing folder", target)]
    if config.file is not None:
        forbidden.append(("the show folder", config.base_dir))
    forbidden += [("a watched root", r.path) for r in config.roots]
    for what, folder in forbidden:
        if _inside(chosen, folder):
            raise ConfigError(f"the CA key must not live inside {what} {folder} (editorial storage: "
                              "whoever reads it can mint trusted certificates); choose a path "
                              "outside the show", chosen)
    return chosen


@command.command("init")
@click.option("--org", default="Production", show_default=True,
              help="Organisation named in the certificates.")
@click.option("--dir", "directory", type=click.Path(file_okay=False, path_type=Path),
              help="Where to write it (default: the configuration's signing folder).")
@click.option("--force", is_flag=True, help="Replace an existing identity (old signatures stay "
                                            "valid but will no longer read trusted).")
@click.option("--config", "config_file", type=click.Path(path_type=Path),
              help="provenance.toml to use (default: search upward).")
@click.option("--ca-key", "ca_key", type=click.Path(dir_okay=False, path_type=Path),
              help="Where the CA's private key goes, outside the show (default: this user's "
                   "private state folder).")
@click.option("--group", "group", metavar="GROUP",
              help="Group of artists who may sign with `tag` (the key becomes 0640 for it).")
@click.option("--mode", "mode", metavar="OCTAL",
              help="The signing key's mode (default 0600, or 0640 with --group; never for others).")
@json_option
def init(org: str, directory: Path | None, force: bool, config_file: Path | None, ca_key: Path | None,
         group: str | None, mode: str | None, as_json: bool) -> None:
    """Create a CA and an ES256 signing certificate that c2pa accepts."""
    config = load_config(config_file)
    target = (directory or config.signing_identity_dir).absolute()
    gid = _group_id(group) if group is not None else None
    key_mode = _mode(mode, shared=gid is not None)
    ca_path = _ca_key_path(config, target, ca_key)
    target.mkdir(parents=True, exist_ok=True)
    if gid is not None:
        os.chown(target, -1, gid)
    # The folder opens to the key's group only as far as the key does (traverse + read).
    os.chmod(target, 0o750 if key_mode & 0o040 else 0o700)
    identity = create_identity(target, org, ca_key_path=ca_path, key_mode=key_mode, key_group=gid,
                               overwrite=force)
    how = _register(config, target)
    shared_with = f"group {group}" if group is not None else "its owner only"
    if as_json:
        emit("signer", {"directory": str(target), "chain": str(identity.chain_path),
                               "ca": str(identity.ca_path), "ca_key": str(ca_path),
                               "key_mode": f"{key_mode:04o}", "key_group": group, "trust": how})
        return
    click.echo(f"created signing identity in {target}")
    click.echo(f"  certificate chain: {identity.chain_path}")
    click.echo(f"  CA certificate:    {identity.ca_path} — {how}")
    click.echo(f"  signing key:       {identity.key_path} ({key_mode:04o}, {shared_with})")
    click.echo(f"  CA private key:    {ca_path} (0600; not on editorial storage — keep it offline)")
    click.echo("  private keys are never printed; back them up like any other secret")
