"""Content-memory tests: real media from ../shared/corpus transformed with real tools."""

from __future__ import annotations

import ctypes.util
import shutil
import subprocess
from pathlib import Path

import pytest

from provenance.fingerprint import Fingerprint, fingerprint
from provenance.identify import identify
from provenance.memory.store import Original
from tests.gate.conftest import show  # noqa: F401  (a show folder with a real config and ledger)


@pytest.fixture(scope="session")
def media_tools() -> None:
    for tool in ("ffmpeg", "exiftool"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed (./dev setup installs it)")
    if ctypes.util.find_library("chromaprint") is None:
        pytest.skip("libchromaprint is not installed (./dev setup installs it with libchromaprint-tools)")


def ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", *args], check=True, capture_output=True)


def fp(path: Path) -> Fingerprint:
    a = identify(path)
    got = fingerprint(path, a.format, a.sha256)
    assert got is not None, path
    return got


def original(path: Path, classification: str = "ai_generated") -> Original:
    return Original(fp(path), classification, "SomeGen", (str(path),), None, "2026-12-01T00:00:00Z")
