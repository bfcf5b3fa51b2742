"""Every command, found the way `provenance --help` finds them (the group is lazy: its
`commands` dict is empty until a command is run), takes --json, and the schema ids the code
emits are the schemas the package ships."""

from __future__ import annotations

import re
from importlib.resources import files
from pathlib import Path

import click

from provenance.cli import cli
from provenance.cli import commands as commands_pkg

NO_JSON = {"hook"}  # execs a shell script with the caller's arguments; its output is the hook's


def _leaves(group: click.Group, ctx: click.Context, prefix: str = "") -> list[tuple[str, click.Command]]:
    out = []
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        assert command is not None, name
        if isinstance(command, click.Group):
            out += _leaves(command, ctx, f"{prefix}{name} ")
        else:
            out.append((prefix + name, command))
    return out


def test_every_command_takes_json() -> None:
    with click.Context(cli) as ctx:
        leaves = _leaves(cli, ctx)
    assert len(leaves) > 20
    missing = [name for name, command in leaves if name not in NO_JSON
               and "--json" not in {o for p in command.params for o in getattr(p, "opts", [])}]
    assert missing == []


def test_every_schema_id_in_the_code_is_shipped() -> None:
    shipped = {p.name.removesuffix(".v1.json") for p in (files("provenance") / "data" / "schemas").iterdir()}
    emitted: set[str] = set()
    for module in Path(str(files(commands_pkg))).glob("*.py"):
        text = module.read_text(encoding="utf-8")
        emitted |= set(re.findall(r'(?:emit|streamed_list)\(\s*"([a-z-]+)"', text))
    assert emitted, "the commands emit through cli.output"
    assert emitted - shipped == set()
    assert {"gate", "disclosure", "error"} <= shipped
