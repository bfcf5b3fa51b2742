"""Real keys, a real approvers file, real assets on disk — nothing mocked."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from provenance.approvals import Approver, ApproverRegistry
from provenance.approvals.keys import load_private, load_public, new_keypair
from provenance.model import Scope
from tests.conftest import Admin

NOW = dt.datetime(2026, 11, 2, 12, 0, tzinfo=dt.UTC)


@dataclass
class Person:
    name: str
    key_file: Path
    key: Ed25519PrivateKey


@pytest.fixture
def make_person(tmp_path: Path):
    def make(name: str) -> Person:
        out = tmp_path / "keys" / name.replace(" ", "_").replace(".", "")
        new_keypair(out)
        return Person(name, out, load_private(out))

    return make


@pytest.fixture
def doe(make_person) -> Person:
    return make_person("J. Doe")


@pytest.fixture
def registry(tmp_path: Path, doe: Person, admin: Admin) -> ApproverRegistry:
    """J. Doe may grant final-deliverable and talent-likeness, until the end of 2027 (signed)."""
    return admin.add(tmp_path / "approvers.toml", doe.name, load_public(doe.key_file.with_name(
        doe.key_file.name + ".pub")), {Scope.FINAL_DELIVERABLE, Scope.TALENT_LIKENESS},
        expires=dt.datetime(2028, 1, 1, tzinfo=dt.UTC), email="jdoe@studio.example")


def unsigned_registry(path: Path, *people: tuple[Person, frozenset[Scope]]) -> ApproverRegistry:
    """A registry object that was never signed (an artist's own list): it can sign, never verify."""
    return ApproverRegistry(path, tuple(Approver(p.name, "", p.key.public_key(), scopes)
                                        for p, scopes in people))


@pytest.fixture
def asset(tmp_path: Path) -> Path:
    p = tmp_path / "show" / "final" / "shot_010.png"
    p.parent.mkdir(parents=True)
    p.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8)
    return p


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """The real CLI in-process: (exit code, stdout, stderr)."""
    from provenance.cli import main

    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def ensure_registry(capsys: pytest.CaptureFixture[str], admin: Admin, config: str | Path) -> None:
    """`provenance approvers init --admin-key …` for the show at `config`, once."""
    from provenance.config import load_config

    if not load_config(Path(config)).effective_approvers_file.exists():
        code, _, err = run(capsys, "approvers", "init", "--admin-key", str(admin.key_file), "--config",
                           str(config))
        assert code == 0, err
