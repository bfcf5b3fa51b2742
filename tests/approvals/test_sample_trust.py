"""The demo's TEST-ONLY trust root (sample_assets/test-trust, pinned by `./dev demo`) is what
scripts/make_sample_assets.py makes, and an admin can sign a registry with it."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from provenance.approvals import ApproverRegistry
from provenance.approvals.keys import load_private
from provenance.approvals.trust import load_trust
from tests.conftest import REPO

TRUST_DIR = REPO / "sample_assets" / "test-trust"


def test_the_committed_sample_trust_root_is_what_the_script_makes(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    script_file = REPO / "scripts" / "make_sample_assets.py"
    spec = importlib.util.spec_from_file_location("make_sample_assets", script_file)
    assert spec is not None and spec.loader is not None
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    monkeypatch.setattr(script, "TRUST_DIR", tmp_path)
    script.write_trust()
    for name in ("admin.key", "admin.key.pub", "trust.toml"):
        assert (tmp_path / name).read_bytes() == (TRUST_DIR / name).read_bytes(), name


def test_the_demo_admin_signs_a_registry_the_demo_trusts(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROVENANCE_TRUST", str(TRUST_DIR / "trust.toml"))
    trust = load_trust()
    registry = ApproverRegistry.init(tmp_path / "approvers.toml", show="sample",
                                     admin=[load_private(TRUST_DIR / "admin.key")])
    assert ApproverRegistry.from_file(registry.path).signed_by == trust.key_ids
