"""`provenance approve --embed` end to end: real c2pa-python, a real signing identity, real keys."""

from __future__ import annotations

import json
import shutil
import stat
from pathlib import Path
from typing import Any

import pytest

from provenance.approvals import find_approvals
from provenance.approvals.embed import APPROVAL_LABEL
from provenance.approvals.statement import parse_time
from provenance.config import load_config
from provenance.identify import sha256_file
from provenance.ledger import Ledger
from provenance.model import Classification
from provenance.pipeline import inspect
from provenance.tagging.atomic import TMP_PREFIX
from provenance.tagging.c2pa_sign import read_store
from tests.approvals.conftest import ensure_registry, run
from tests.conftest import Admin
from tests.show_ledger import make_ledger

REPO = Path(__file__).resolve().parents[2]
AI_JPEG = REPO / "sample_assets/show/working/generated/c2pa_generated.jpg"
EXR = REPO / "sample_assets/show/working/plates/plate.exr"

CONFIG = """\
[ledger]
url = "sqlite:///.provenance/ledger.db"
[policy]
unknown = "pass"
unvetted_tools = "warn"
"""


@pytest.fixture
def show(tmp_path: Path) -> Path:
    (tmp_path / "provenance.toml").write_text(CONFIG)
    (tmp_path / "final").mkdir()
    make_ledger(tmp_path / "provenance.toml")
    return tmp_path


def cfg(show: Path) -> str:
    return str(show / "provenance.toml")


@pytest.fixture
def key(show: Path, capsys, admin: Admin) -> Path:
    """A real approver key, registered through the CLI for final-deliverable."""
    key = show / "keys" / "doe"
    assert run(capsys, "keys", "new", "--out", str(key))[0] == 0
    ensure_registry(capsys, admin, cfg(show))
    code, _, err = run(capsys, "approvers", "add", "doe", "--email", "doe@studio.example", "--public-key",
                       str(key) + ".pub", "--scopes", "final-deliverable", "--admin-key", str(admin.key_file),
                       "--config", cfg(show))
    assert code == 0, err
    return key


@pytest.fixture
def signer(show: Path, capsys) -> Path:
    """The production's C2PA signing identity, made by `provenance signer init` in the config's dir."""
    code, _, err = run(capsys, "signer", "init", "--config", cfg(show))
    assert code == 0, err
    directory = load_config(show / "provenance.toml").signing_identity_dir
    assert (directory / "signer-chain.pem").is_file()
    return directory


def approve(show: Path, capsys, key: Path, *paths: Path, ref: str = "LEGAL-9") -> tuple[int, Any, str]:
    code, out, err = run(capsys, "approve", *map(str, paths), "--scope", "final-deliverable", "--ref", ref,
                         "--key", str(key), "--embed", "--json", "--config", cfg(show))
    doc = json.loads(out) if out.strip() else None
    return code, doc["results"] if doc and "results" in doc else doc, err


def store_of(path: Path) -> dict[str, Any]:
    store = read_store(path, "image/jpeg")
    assert store is not None
    return store


def no_temps(folder: Path) -> bool:
    return not [p for p in folder.iterdir() if p.name.startswith(TMP_PREFIX)]


def test_embed_adds_one_manifest_keeps_the_ai_claim_and_the_gate_clears_it(show, capsys, key, signer):
    jpg = show / "final" / "gen.jpg"
    shutil.copy(AI_JPEG, jpg)
    jpg.chmod(0o640)
    before_sha = sha256_file(jpg)
    before = store_of(jpg)
    assert inspect(jpg).classification is Classification.AI_GENERATED
    # Without an approval the gate blocks this AI file as a final deliverable.
    assert run(capsys, "gate", str(jpg), "--config", cfg(show))[0] == 1

    code, result, err = approve(show, capsys, key, jpg)
    assert code == 0, err
    [r] = result
    after_sha = sha256_file(jpg)
    assert r["ok"] and r["embedded"] is True and r["sha256"] == after_sha != before_sha
    assert r["sha256_before_embed"] == before_sha
    assert stat.S_IMODE(jpg.stat().st_mode) == 0o640

    after = store_of(jpg)
    assert len(after["manifests"]) == len(before["manifests"]) + 1
    assert set(before["manifests"]) < set(after["manifests"])  # the original AI manifest is kept
    active = after["manifests"][after["active_manifest"]]
    [data] = [a["data"] for a in active["assertions"] if a["label"] == APPROVAL_LABEL]
    assert data["scopes"] == ["final-deliverable"] and data["reference"] == "LEGAL-9"
    assert data["approver"] == "doe" and data["email"] == "doe@studio.example"
    assert data["subject_sha256_before_embed"] == before_sha
    # The same moment as the signed approval's issuedAt.
    assert parse_time(data["issued_at"]) == parse_time(r["approval"]["issued_at"])
    actions = [a["action"] for a in active["assertions"]
               if a["label"].startswith("c2pa.actions") for a in a["data"]["actions"]]
    assert "c2pa.published" in actions
    assert inspect(jpg).classification is Classification.AI_GENERATED

    # The signed approval verifies against the new bytes (portable file and ledger alike).
    config = load_config(show / "provenance.toml")
    with Ledger.open(config.effective_ledger_url) as ledger:
        valid, reasons = find_approvals(jpg, after_sha, config, ledger)
        assert [v.reference for v in valid] == ["LEGAL-9"] and reasons == []
        assert ledger.approvals_for(before_sha) == []
    valid, _ = find_approvals(jpg, after_sha, config, None)
    assert [v.approver for v in valid] == ["doe"]
    code, _, err = run(capsys, "gate", str(jpg), "--config", cfg(show))
    assert code == 0, err
    assert no_temps(jpg.parent)


def test_exr_is_approved_without_embedding(show, capsys, key, signer):
    exr = show / "final" / "plate.exr"
    shutil.copy(EXR, exr)
    sha = sha256_file(exr)
    code, result, err = approve(show, capsys, key, exr)
    assert code == 0, err
    [r] = result
    assert r["ok"] and r["embedded"] is False and r["sha256"] == sha == sha256_file(exr)
    assert r["note"] == "cannot embed in exr; approval recorded beside the file and in the ledger"
    assert (show / "final" / "plate.exr.approval.json").is_file()
    # The text output says so too.
    exr2 = show / "final" / "plate2.exr"
    shutil.copy(EXR, exr2)
    code, out, err = run(capsys, "approve", str(exr2), "--scope", "final-deliverable", "--ref", "L",
                         "--key", str(key), "--embed", "--config", cfg(show))
    assert code == 0 and "cannot embed in exr" in out, err
    assert no_temps(exr.parent)


def test_embed_without_a_signing_identity_fails_that_file_and_writes_nothing(show, capsys, key):
    jpg = show / "final" / "gen.jpg"
    shutil.copy(AI_JPEG, jpg)
    sha = sha256_file(jpg)
    code, result, _ = approve(show, capsys, key, jpg)
    assert code == 3
    [r] = result
    assert not r["ok"] and r["embedded"] is False and "provenance signer init" in r["error"]
    assert sha256_file(jpg) == sha
    assert not (show / "final" / "gen.jpg.approval.json").exists()
    assert no_temps(jpg.parent)


def test_embed_refused_before_the_bytes_change_when_the_approval_would_be(show, capsys, key, signer):
    jpg = show / "final" / "gen.jpg"
    shutil.copy(AI_JPEG, jpg)
    sha = sha256_file(jpg)
    code, _, err = run(capsys, "approve", str(jpg), "--scope", "final-deliverable", "--ref", " ",
                         "--key", str(key), "--embed", "--config", cfg(show))
    assert code == 2 and "--ref" in err  # a usage error, refused before anything is read
    assert sha256_file(jpg) == sha and no_temps(jpg.parent)
