"""The command shell: every module under cli/commands is a command of the same name."""

from __future__ import annotations

import importlib
import pkgutil
import subprocess
import sys

from provenance.cli import commands


def test_every_command_module_is_reachable_under_its_own_name() -> None:
    names = [m.name for m in pkgutil.iter_modules(commands.__path__) if not m.name.startswith("_")]
    assert {"gate", "watch", "inspect", "approve", "tag"} <= set(names)
    for name in names:
        module = importlib.import_module(f"{commands.__name__}.{name}")
        command = name.replace("_", "-")  # a module verify_delivery is the command verify-delivery
        assert module.command.name == command, f"{name}.py defines command {module.command.name!r}"
    listed = subprocess.run([sys.executable, "-m", "provenance", "--help"], capture_output=True,
                            text=True, check=True).stdout
    for name in names:
        assert f"\n  {name.replace('_', '-')} " in listed, name


def test_running_one_command_does_not_import_the_others() -> None:
    probe = ("import sys; from provenance.cli import main; rc = main(['gate', '--help']); "
             "print(sorted(m for m in sys.modules if m.startswith('provenance.cli.commands.')))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "['provenance.cli.commands.gate']"


def test_an_unknown_command_is_a_usage_error() -> None:
    run = subprocess.run([sys.executable, "-m", "provenance", "gaet"], capture_output=True, text=True)
    assert run.returncode == 2
    assert "No such command 'gaet'" in run.stderr
