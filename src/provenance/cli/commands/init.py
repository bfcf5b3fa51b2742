"""`provenance init [DIR] [--ledger URL]`: write a commented provenance.toml for a show."""

from __future__ import annotations

import json
import os
from importlib.resources import files
from pathlib import Path

import click

from provenance.cli.options import json_option
from provenance.cli.output import emit
from provenance.config import CONFIG_NAME, STATE_DIR, load_config
from provenance.errors import InvalidUsage, LedgerError
from provenance.identity import write_public

# The template's commented example; `--ledger` puts the real line after it.
_LEDGER_EXAMPLE = '# url = "postgresql+psycopg://provenance@dbhost/show"\n'


def _checked_ledger_url(url: str, directory: Path) -> str:
    """`--ledger` as it may go into a show config that every artist can read: a URL we can
    open, no password in it, and a SQLite file outside the show folder."""
    from sqlalchemy import exc
    from sqlalchemy.engine import make_url

    from provenance.ledger import redacted

    try:
        u = make_url(url)
    except exc.ArgumentError:
        raise click.BadParameter("not a database URL (sqlite:///PATH or postgresql+psycopg://…)",
                                 param_hint="--ledger") from None
    if u.password is not None or "password" in u.query:
        raise click.BadParameter(
            f"{redacted(u)}: the show's config is readable by everyone who mounts the show; give "
            "the password to libpq instead (~/.pgpass, PGPASSWORD or PGPASSFILE) and leave it out "
            "of the URL", param_hint="--ledger")
    backend = u.get_backend_name()
    if backend == "sqlite":
        if not u.database or u.database == ":memory:":
            raise click.BadParameter("a SQLite ledger needs a file: sqlite:///PATH", param_hint="--ledger")
        db = Path(os.path.expanduser(u.database))
        db = Path(os.path.abspath(db if db.is_absolute() else directory / db))
        show = Path(os.path.abspath(directory))
        if db == show or show in db.parents:
            raise click.BadParameter(
                f"{db} is inside the show folder, which every artist can write (or delete, and "
                "the ledger's memory with it); keep it on this host's disk, or leave --ledger out "
                "for this host's default", param_hint="--ledger")
        return f"sqlite:///{db}"
    if backend != "postgresql":
        raise click.BadParameter(f"unsupported backend {backend!r} (sqlite:///PATH or "
                                 "postgresql+psycopg://…)", param_hint="--ledger")
    return url


@click.command("init")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path), default=".")
@click.option("--force", is_flag=True, help="Overwrite an existing provenance.toml.")
@click.option("--ledger", "ledger_url", metavar="URL", default=None,
              help="The show's ledger: postgresql+psycopg://USER@HOST/DB for several hosts (password "
                   "from ~/.pgpass or PGPASSWORD), or sqlite:///PATH off the show folder; default: "
                   "SQLite on each host's own disk.")
@json_option
def command(directory: Path, force: bool, ledger_url: str | None, as_json: bool) -> None:
    """Write a commented DIR/provenance.toml (roots, zones, settle, ledger, policy)."""
    target = directory / CONFIG_NAME
    if target.exists() and not force:
        raise InvalidUsage("already exists (use --force to overwrite)", target)
    template = files("provenance").joinpath("data/provenance.toml.template").read_text()
    if ledger_url is not None:
        url = _checked_ledger_url(ledger_url, directory)
        template = template.replace(_LEDGER_EXAMPLE, f"{_LEDGER_EXAMPLE}url = {json.dumps(url)}\n", 1)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / STATE_DIR).mkdir(exist_ok=True)
    write_public(target, template.encode())
    shown_url, problem = _open_ledger(target)
    if as_json:
        emit("init", {"config": str(target.resolve()), "ledger": shown_url,
                      **({"ledger_error": problem} if problem else {})})
        return
    click.echo(f"wrote {target}")
    click.echo(f"ledger: {shown_url}")
    if problem:
        click.echo(f"warning: the ledger cannot be opened yet: {problem}", err=True)
    click.echo("next: `provenance signer init` (C2PA signing identity), `provenance approvers init "
               "--admin-key KEY` (the signed approvers registry; hosts pin KEY.pub in "
               "/etc/provenance/trust.toml), then `provenance watch`")


def _open_ledger(config_file: Path) -> tuple[str, str | None]:
    """Create (or migrate) the show's ledger now, so the first gate on this host finds it;
    the ledger as shown to people (no password), and why it cannot be opened, if it cannot."""
    from provenance.ledger import Ledger, redacted

    config = load_config(config_file)
    url = config.effective_ledger_url
    try:
        Ledger.open(url).close()
    except LedgerError as exc:
        return redacted(url), exc.reason
    return redacted(url), None
