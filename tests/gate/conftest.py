"""A show folder with a real config, a real SQLite ledger, real approver keys and real media.

Approvals are made with the real approvals library (sign_approval/write_portable) or, for
the forgeries, with the same DSSE code under keys or content the registry does not vouch for.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from PIL.PngImagePlugin import PngInfo

from provenance.approvals import ApproverRegistry, sign_approval, write_portable
from provenance.approvals.keys import load_private, load_public, new_keypair
from provenance.cli import main
from provenance.config import Config, load_config
from provenance.identify import sha256_file
from provenance.model import Scope
from tests.conftest import Admin
from tests.show_ledger import make_ledger

REPO = Path(__file__).resolve().parents[2]
PROVENANCE = REPO / ".venv" / "bin" / "provenance"
AI_IPTC = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"

CONFIG = """\
[ledger]
url = "sqlite:///.provenance/ledger.db"
[approvals]
approvers_file = "approvers.toml"
[policy]
unknown = "pass"
unvetted_tools = "warn"
"""


def ai_png(path: Path, seed: int = 1, text: str = "a castle at dusk") -> Path:
    """A PNG with an AUTOMATIC1111 `parameters` chunk (a generator signature the readers catch)."""
    info = PngInfo()
    info.add_text("parameters", f"{text}\nSteps: 20, Sampler: Euler a, CFG scale: 7, Seed: {seed}, "
                                f"Size: 64x64, Model: sd_xl_base_1.0")
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (64, 64), (200, seed % 256, 40)).save(path, pnginfo=info)
    return path


def plain_png(path: Path, seed: int = 1) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (48, 48), (seed % 256, 90, 160)).save(path)
    return path


def ai_jpeg(path: Path, seed: int = 1) -> Path:
    """A JPEG tagged with IPTC DigitalSourceType trainedAlgorithmicMedia by real ExifTool."""
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (64, 64), (10, seed % 256, 200)).save(path, "JPEG")
    subprocess.run(["exiftool", "-q", "-overwrite_original",
                    f"-XMP-iptcExt:DigitalSourceType={AI_IPTC}", str(path)], check=True)
    return path


@dataclass
class Show:
    root: Path
    pkg: Path
    admin: Admin
    keys: dict[str, Path] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # As `provenance init` leaves a show: with its ledger, which the gate never creates.
        if self.config_file.is_file():
            make_ledger(self.config_file)

    @property
    def config_file(self) -> Path:
        return self.root / "provenance.toml"

    @property
    def config(self) -> Config:
        return load_config(self.config_file)

    def registry(self) -> ApproverRegistry:
        return ApproverRegistry.load(self.config)

    def add_approver(self, name: str, scopes: set[Scope], expires: dt.datetime | None = None) -> Path:
        key = self.root / "keys" / f"{name}.key"
        key.parent.mkdir(exist_ok=True)
        new_keypair(key)
        self.admin.add(self.config.effective_approvers_file, name, load_public(Path(f"{key}.pub")), scopes,
                       expires, email=f"{name.lower()}@studio.example")
        self.keys[name] = key
        return key

    def revoke(self, name: str) -> ApproverRegistry:
        return self.registry().revoke(name, admin=[self.admin.key])

    def approve(self, asset: Path, approver: str, scopes: set[Scope], *, ref: str = "LEGAL-1",
                now: dt.datetime | None = None, expires_at: dt.datetime | None = None) -> Path:
        envelope, _ = sign_approval(load_private(self.keys[approver]), self.registry(),
                                    subject_name=asset.name, sha256=sha256_file(asset), scopes=scopes,
                                    reference=ref, now=now, expires_at=expires_at)
        return write_portable(asset, envelope, sha256_file(asset), self.config)

    def gate(self, *args: str | Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, Any], str]:
        """Run the real CLI in-process with --json; return (exit code, report, stderr)."""
        capsys.readouterr()
        rc = main(["gate", "--config", str(self.config_file), "--json", *map(str, args)])
        out = capsys.readouterr()
        return rc, json.loads(out.out), out.err


@pytest.fixture
def show(tmp_path: Path, exiftool_available: None, admin: Admin) -> Show:
    root = tmp_path / "show"
    (root / ".provenance").mkdir(parents=True)
    (root / "provenance.toml").write_text(CONFIG)
    pkg = root / "deliveries" / "EP101"
    pkg.mkdir(parents=True)
    return Show(root, pkg, admin)


def asset(report: dict[str, Any], name: str) -> dict[str, Any]:
    matches = [a for a in report["assets"] if a["name"] == name]
    assert matches, f"{name} not in report: {[a['name'] for a in report['assets']]}"
    return matches[0]


def cache_blob(show_root: Path) -> tuple[str, str, dict[tuple[int, int], tuple[Any, ...]], list[str]]:
    """The gate cache of a show as stored: (show, readers digest, rows, verdict bodies), MAC
    not checked."""
    import marshal

    from provenance.gate.cache import MAGIC

    blob = cache_path(show_root).read_bytes()
    assert blob.startswith(MAGIC)
    show, readers, bodies, rows = marshal.loads(blob[len(MAGIC) + 32:])
    return show, readers, rows, bodies


def cache_path(show_root: Path) -> Path:
    """Where the show's gate cache is (the private state folder is not checked here)."""
    import hashlib
    import os

    from provenance.private_state import state_home

    name = hashlib.sha256(os.fsencode(os.path.realpath(show_root))).hexdigest()[:32]
    return state_home() / "gate-cache" / f"{name}.v4"


def write_cache_blob(show_root: Path, show: str, readers: str, rows: dict[tuple[int, int], tuple[Any, ...]],
                     bodies: list[str], key: bytes | None = None, mac: bytes | None = None) -> None:
    """Write a gate cache as an attacker (or another show's gate) would: MACed under `key`
    (default: the real key, read from the state folder), or carrying `mac` as it is."""
    import marshal

    from provenance.gate.cache import KEY_FILE, MAGIC, blob_mac
    from provenance.private_state import state_home

    payload = marshal.dumps((show, readers, bodies, rows))
    if mac is None:
        mac = blob_mac(key if key is not None else (state_home() / KEY_FILE).read_bytes(), payload)
    cache_path(show_root).write_bytes(MAGIC + mac + payload)
