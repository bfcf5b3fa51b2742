"""Fixtures shared by every test area. Area-specific fixtures live in tests/<area>/conftest.py."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from provenance.identity import SigningIdentity, create_identity
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
    return create_identity(tmp_path_factory.mktemp("identity"), "Test Studio")
