"""Options shared by several commands, as decorators (one definition, one help text)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])


def json_option(f: F) -> F:
    return click.option("--json", "as_json", is_flag=True, help="Machine-readable JSON output.")(f)


def scopes_option(f: F) -> F:
    """`--scope S` (repeatable) for `approve` and `approvers add` alike; `--scopes` is the same
    option, and either takes a comma list too (`--scopes a,b`, as `approvers add` used to)."""
    return click.option(
        "--scope", "--scopes", "scopes", multiple=True, required=True, metavar="SCOPE",
        help="A scope (repeatable, or comma-separated): final-deliverable, talent-likeness, "
             "personal-data, third-party-ip.",
    )(f)


def config_option(f: F) -> F:
    return click.option(
        "--config", "config_path", type=click.Path(path_type=Path), default=None,
        help="provenance.toml to use (default: search upward from the current folder).",
    )(f)


def _set_trust(ctx: click.Context, param: click.Parameter, value: Path | None) -> Path | None:
    if value is not None:
        from provenance.approvals.trust import TRUST_ENV

        # The same as $PROVENANCE_TRUST, so a reload (SIGHUP) or a child process sees it too.
        os.environ[TRUST_ENV] = str(value.absolute())
    return value


def trust_option(f: F) -> F:
    return click.option(
        "--trust", "trust_file", type=click.Path(dir_okay=False, path_type=Path), default=None,
        expose_value=False, callback=_set_trust, is_eager=True,
        help="Trust file pinning the admin keys that sign the approvers registry "
             "(default: $PROVENANCE_TRUST, else /etc/provenance/trust.toml; never the show's config).",
    )(f)
