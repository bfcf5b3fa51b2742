"""`provenance watch [CONFIG]`: run the watch daemon in the foreground (systemd Type=simple).

CONFIG is a provenance.toml, or a folder: its provenance.toml if it has one, otherwise
that folder is watched with the defaults. Without CONFIG, `--config` or the usual upward
search applies. SIGTERM/SIGINT stop after in-flight files (exit 0); SIGHUP reloads.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import click

from provenance.cli.options import config_option, json_option, trust_option
from provenance.config import CONFIG_NAME, Config, Root, load_config
from provenance.errors import ConfigError


def resolve_config(target: Path | None) -> Config:
    if target is not None and target.is_dir() and not (target / CONFIG_NAME).is_file():
        base = target.resolve()
        return Config(base_dir=base, roots=(Root(base),))
    if target is not None and not target.exists():
        raise ConfigError("no such file or folder", target)
    config = load_config(target)
    if not config.roots:  # no file anywhere: watch the folder we were started in
        config = dataclasses.replace(config, roots=(Root(config.base_dir),))
    return config


@click.command("watch")
@click.argument("config_arg", metavar="[CONFIG]", required=False, type=click.Path(path_type=Path))
@trust_option
@config_option
@json_option
def command(config_arg: Path | None, config_path: Path | None, as_json: bool) -> None:
    """Watch the configured roots; flag generated material in final deliverables at once."""
    from provenance.watch import run
    from provenance.watch.logs import configure

    if config_path is not None and config_arg is not None and config_path.absolute() != config_arg.absolute():
        # One daemon watches one show: taking one of two and ignoring the other hid the mistake.
        raise click.UsageError(f"two configurations given ({config_path} and {config_arg}): give one, "
                               "as CONFIG or as --config")
    config = resolve_config(config_path or config_arg)
    if as_json:
        config = dataclasses.replace(config, log_format="json")
    configure(config.log_format)
    run(config)
