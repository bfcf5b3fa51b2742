"""Private keys kept in the show tree are never recorded (path or sha256) in the ledger; the
scan warns instead (issue 10 item 18). Recognised by content, whatever the name."""

from __future__ import annotations

import hashlib
import io
import logging
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from PIL import Image
from PIL.PngImagePlugin import PngInfo
from sqlalchemy import select

from provenance.cli import main
from provenance.ledger import Ledger
from provenance.ledger.schema import events, locations
from tests.watch.conftest import show_ledger_url, write_show

PEM, DER = serialization.Encoding.PEM, serialization.Encoding.DER
PKCS8, TRAD, SSH = (serialization.PrivateFormat.PKCS8, serialization.PrivateFormat.TraditionalOpenSSL,
                    serialization.PrivateFormat.OpenSSH)
NONE = serialization.NoEncryption()


def _keys(show: Path) -> dict[Path, bytes]:
    """Every kind of private key file, under names that say nothing."""
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ec_key = ec.generate_private_key(ec.SECP256R1())
    ed = ed25519.Ed25519PrivateKey.generate()
    pkcs8 = ed.private_bytes(PEM, PKCS8, NONE)
    files = {
        show / "final" / "notes.txt": rsa_key.private_bytes(PEM, TRAD, NONE),  # BEGIN RSA PRIVATE KEY
        show / "final" / "plate.exr": ec_key.private_bytes(PEM, TRAD, NONE),  # BEGIN EC PRIVATE KEY
        show / "working" / "k" / "legal": ed.private_bytes(
            PEM, PKCS8, serialization.BestAvailableEncryption(b"pw")),  # ENCRYPTED PRIVATE KEY
        show / "working" / "k" / "blob.bin": rsa_key.private_bytes(DER, PKCS8, NONE),  # DER PKCS#8
        show / "working" / "k" / "bag.pem": b"Bag Attributes\n    localKeyID: 01 02\n" + pkcs8,
        show / "working" / "k" / "ssh": ed.private_bytes(PEM, SSH, NONE),  # OPENSSH PRIVATE KEY
    }
    for path, data in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return files


def _ai_png_quoting_a_key_marker(path: Path) -> bytes:
    # A marker inside a media file does not make it a key: it must still be judged and flagged.
    info = PngInfo()
    info.add_text("Comment", "-----BEGIN PRIVATE KEY-----\nnot really\n-----END PRIVATE KEY-----\n")
    info.add_text("parameters", "a castle\nSteps: 20, Sampler: Euler a, CFG scale: 7, Seed: 5, "
                                "Size: 8x8, Model: sd15")
    buf = io.BytesIO()
    Image.new("RGB", (8, 8), (9, 9, 9)).save(buf, "PNG", pnginfo=info)
    path.write_bytes(buf.getvalue())
    return buf.getvalue()


def test_scan_never_records_a_private_key_and_warns(
        tmp_path: Path, exiftool_available: None, caplog: pytest.LogCaptureFixture,
        capsys: pytest.CaptureFixture[str]) -> None:
    show = tmp_path / "show"
    cfg = write_show(show)
    keys = _keys(show)
    # An approver key made the documented way, kept (wrongly) in the show tree.
    assert main(["keys", "new", "--out", str(show / "working" / "keys" / "jdoe.key")]) == 0
    keys[show / "working" / "keys" / "jdoe.key"] = (show / "working" / "keys" / "jdoe.key").read_bytes()
    if shutil.which("ssh-keygen"):
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(show / "final" / "id")],
                       check=True)
        keys[show / "final" / "id"] = (show / "final" / "id").read_bytes()
    marker_png = show / "final" / "gen.png"
    _ai_png_quoting_a_key_marker(marker_png)

    with caplog.at_level(logging.WARNING):
        assert main(["scan", str(show), "--config", str(cfg)]) == 0
    capsys.readouterr()

    with Ledger.open(show_ledger_url(show), create=False) as ledger, \
            ledger.engine.connect() as c:
        paths = {r.path for r in c.execute(select(locations.c.path))}
        history = " ".join(str(tuple(r)) for r in c.execute(select(events)))
    for path, data in keys.items():
        digest = hashlib.sha256(data).hexdigest()
        named = re.search(re.escape(str(path)) + r"(?![\w.])", history)  # not jdoe.key.pub
        assert str(path) not in paths and not named, path
        assert digest not in history, path
        assert any(str(path) in r.getMessage() and "private key" in r.getMessage() for r in caplog.records)
    # The public half is no secret, and the PNG quoting a marker is judged and flagged as usual.
    assert str(show / "working" / "keys" / "jdoe.key.pub") in paths
    assert str(marker_png) in paths
    assert main(["findings", "--json", "--config", str(cfg)]) == 0
    assert str(marker_png) in capsys.readouterr().out
