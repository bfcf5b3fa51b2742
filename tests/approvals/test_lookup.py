"""find_approvals: portable files beside the asset, in the package approvals folder, and the ledger."""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path

import pytest

from provenance.approvals import find_approvals, portable_path, sign_approval, write_portable
from provenance.approvals.lookup import read_portable
from provenance.config import Config
from provenance.errors import ApprovalError
from provenance.identify import sha256_file
from provenance.ledger import Ledger
from provenance.model import Scope
from tests.approvals.conftest import NOW
from tests.trees import within


def _approve(doe, registry, asset: Path, scope=Scope.FINAL_DELIVERABLE):
    sha = sha256_file(asset)
    envelope, _ = sign_approval(doe.key, registry, subject_name=asset.name, sha256=sha, scopes=[scope],
                                reference="LEGAL-1", now=NOW)
    return envelope, sha


def test_package_approvals_folder_is_found_from_a_nested_asset(doe, registry, asset, tmp_path):
    config = dataclasses.replace(Config(base_dir=tmp_path), approvals_dir="approvals")
    package = tmp_path / "show"
    (package / "approvals").mkdir()
    envelope, sha = _approve(doe, registry, asset)
    written = write_portable(asset, envelope, sha, config)
    assert written == package / "approvals" / "final" / "shot_010.png.approval.json"
    assert not asset.with_name("shot_010.png.approval.json").exists()
    valid, reasons = find_approvals(asset, sha, config, None, registry=registry, now=NOW)
    assert [v.approver for v in valid] == ["J. Doe"] and reasons == []
    # Without the folder configured, the same file is not looked for there.
    valid, _ = find_approvals(asset, sha, Config(base_dir=tmp_path), None, registry=registry, now=NOW)
    assert valid == []


def test_second_approver_is_kept_and_stale_records_dropped(doe, registry, asset, tmp_path, make_person):
    config = Config(base_dir=tmp_path)
    env1, sha = _approve(doe, registry, asset)
    env2, _ = _approve(doe, registry, asset, Scope.TALENT_LIKENESS)
    write_portable(asset, env1, sha, config)
    write_portable(asset, env2, sha, config)
    write_portable(asset, env2, sha, config)  # the same record twice is one record
    assert len(json.loads(portable_path(asset, config).read_text())["approvals"]) == 2
    asset.write_bytes(b"new bytes")
    env3, sha3 = _approve(doe, registry, asset)
    write_portable(asset, env3, sha3, config)
    assert len(json.loads(portable_path(asset, config).read_text())["approvals"]) == 1


def test_ledger_record_and_portable_copy_count_once(doe, registry, asset, tmp_path):
    config = Config(base_dir=tmp_path)
    envelope, sha = _approve(doe, registry, asset)
    write_portable(asset, envelope, sha, config)
    with Ledger.open(f"sqlite:///{tmp_path / 'ledger.db'}") as ledger:
        ledger.record_approval(envelope, sha, "J. Doe", ["final-deliverable"], "LEGAL-1", None)
        valid, reasons = find_approvals(asset, sha, config, ledger, registry=registry, now=NOW)
        assert len(valid) == 1 and reasons == []
        portable_path(asset, config).unlink()  # the ledger alone still proves it
        valid, _ = find_approvals(asset, sha, config, ledger, registry=registry, now=NOW)
        assert len(valid) == 1


def test_unreadable_portable_file_is_a_reason_not_a_crash(registry, asset, tmp_path):
    config = Config(base_dir=tmp_path)
    portable_path(asset, config).write_text("{not json")
    valid, reasons = find_approvals(asset, sha256_file(asset), config, None, registry=registry, now=NOW)
    assert valid == [] and "unreadable approval file" in reasons[0]


def test_a_fifo_in_place_of_an_approval_file_is_refused_not_waited_on(tmp_path: Path) -> None:
    fifo = tmp_path / "shot.png.approval.json"
    os.mkfifo(fifo)
    with pytest.raises(ApprovalError, match=r"not a regular file \(a FIFO\)"):
        within(10, fifo, lambda: read_portable(fifo))
