"""Fixtures shared by every test area. Area-specific fixtures live in tests/<area>/conftest.py."""

from __future__ import annotations

import datetime as dt
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from provenance.approvals import ApproverRegistry
from provenance.approvals.keys import load_private, new_keypair
from provenance.approvals.trust import STATE_ENV, TRUST_ENV
from provenance.identity import SigningIdentity, create_identity
from provenance.model import Scope
from tests.pg import fresh_postgres_url, postgres_server, postgres_url  # noqa: F401  (real PostgreSQL)
from tests.trees import deep  # noqa: F401  (a folder 1,100 levels deep)
from tests.unprivileged import unprivileged  # noqa: F401  (a real unprivileged user)

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO.parent / "shared" / "corpus"
SAMPLE_ASSETS = REPO / "sample_assets"


@pytest.fixture(autouse=True)
def private_state_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test gets its own `$XDG_STATE_HOME` (the gate's private cache and key live there):
    no test reads another's cache, and none touches the real ~/.local/state."""
    home = tmp_path_factory.mktemp("state-home")
    home.chmod(0o700)
    monkeypatch.setenv("XDG_STATE_HOME", str(home))
    # Commands with no show config fall back to $XDG_CONFIG_HOME/provenance (keys, a ledger): a
    # test must not read the machine's real one, which another checkout may have migrated.
    config_home = tmp_path_factory.mktemp("config-home")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(config_home))
    return home


@pytest.fixture(scope="session")
def corpus_dir() -> Path:
    if not (CORPUS / "labels.tsv").is_file():
        pytest.skip(f"real-media corpus not found at {CORPUS}")
    return CORPUS


@pytest.fixture(scope="session")
def exiftool_available() -> None:
    if shutil.which("exiftool") is None:
        pytest.fail("ExifTool is not installed: run ./dev setup")


@pytest.fixture(scope="session")
def signing_identity(tmp_path_factory: pytest.TempPathFactory) -> SigningIdentity:
    """A fresh test-only C2PA signing identity (CA + ES256 leaf) for this test session."""
    return create_identity(tmp_path_factory.mktemp("identity"), "Test Studio",
                           ca_key_path=tmp_path_factory.mktemp("ca") / "ca.key")


@dataclass(frozen=True)
class Admin:
    """The production's admin, pinned by this test session's trust file (never /etc)."""

    key_file: Path
    key: Ed25519PrivateKey
    trust_file: Path

    def registry(self, path: Path, show: str = "show") -> ApproverRegistry:
        """The signed registry at `path`, made (version 1, empty) when there is none yet."""
        registry = ApproverRegistry.from_file(path)
        if registry.version == 0:
            registry = ApproverRegistry.init(path, show=show, admin=[self.key])
        return registry

    def add(self, path: Path, name: str, public_key: Ed25519PublicKey, scopes: set[Scope] | frozenset[Scope],
            expires: dt.date | dt.datetime | None = None, email: str | None = None) -> ApproverRegistry:
        """Add an approver to the registry at `path` as the admin would: a new signed version."""
        email = email or f"{name.lower().replace(' ', '').replace('.', '')}@studio.example"
        return self.registry(path).add(name, email, public_key, frozenset(scopes), expires, admin=[self.key])


@pytest.fixture(scope="session")
def admin(tmp_path_factory: pytest.TempPathFactory) -> Admin:
    folder = tmp_path_factory.mktemp("etc-provenance")
    key_file = folder / "admin.key"
    new_keypair(key_file)
    trust = folder / "trust.toml"
    trust.write_text('admin_keys = ["admin.key.pub"]\nthreshold = 1\n')
    return Admin(key_file, load_private(key_file), trust)


@pytest.fixture(autouse=True)
def host_trust(admin: Admin, tmp_path_factory: pytest.TempPathFactory,
               monkeypatch: pytest.MonkeyPatch) -> Admin:
    """Every test (and every process it starts) trusts the session's admin key, and remembers
    registry versions in its own host-state folder, never the real /etc or home."""
    monkeypatch.setenv(TRUST_ENV, str(admin.trust_file))
    monkeypatch.setenv(STATE_ENV, str(tmp_path_factory.mktemp("host-state")))
    return admin
