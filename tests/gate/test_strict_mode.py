"""Issue 10 item 8: strict mode (`[policy] unknown = "require-declaration"`) is met only by
signed evidence of origin — C2PA from a trusted signer with intact bytes — or a signed approval.
Hand-written capture tags (EXIF Make/Model, XMP-tiff Make/Model, IPTC DigitalSourceType
digitalCapture, the same in a bound sidecar) are shown as what they claim (not_ai, "claims
capture (unsigned)") but do not satisfy it. Real ExifTool, real c2pa-python signing."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

import pytest
from PIL import Image

from provenance.cli import main
from provenance.identity import SigningIdentity
from provenance.tagging.c2pa_sign import C2paSigner
from tests.gate.conftest import CONFIG, Show, ai_jpeg, asset

Capsys = pytest.CaptureFixture[str]
CAPTURE = "http://cv.iptc.org/newscodes/digitalsourcetype/digitalCapture"


def _strict(show: Show, anchors: Path | None = None) -> None:
    """Strict mode; `anchors` named in the show's own config (which proves nothing)."""
    text = CONFIG.replace('unknown = "pass"', 'unknown = "require-declaration"')
    if anchors is not None:
        text += f'[trust]\nanchors = ["{anchors}"]\n'
    show.config_file.write_text(text)


def _pin_capture_anchor(show: Show, anchor: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The host's trust file (outside the show) pins `anchor` as a capture anchor."""
    host = tmp_path / "etc-provenance"
    host.mkdir()
    trust = host / "trust.toml"
    trust.write_text(f'admin_keys = ["{show.admin.trust_file.parent / "admin.key.pub"}"]\n'
                     f'capture_anchors = ["{anchor}"]\n')
    monkeypatch.setenv("PROVENANCE_TRUST", str(trust))


def _exiftool(path: Path, *args: str) -> Path:
    subprocess.run(["exiftool", "-q", "-overwrite_original", *args, str(path)], check=True)
    return path


def _forged_camera_jpeg(path: Path) -> Path:
    """The issue's recipe: strip an AI JPEG's metadata and claim a camera."""
    return _exiftool(ai_jpeg(path), "-all=", "-Make=Canon", "-Model=Canon EOS R5")


@pytest.mark.parametrize("forge", ["exif-make-model", "xmp-tiff-make-model", "iptc-digital-capture",
                                   "bound-sidecar-digital-capture"])
def test_hand_written_capture_tags_do_not_meet_strict_mode(show: Show, forge: str, capsys: Capsys) -> None:
    _strict(show)
    target = show.pkg / "plate.jpg"
    if forge == "exif-make-model":
        _forged_camera_jpeg(target)
    elif forge == "xmp-tiff-make-model":
        _exiftool(ai_jpeg(target), "-all=", "-XMP-tiff:Make=Sony", "-XMP-tiff:Model=ILCE-7M4")
    elif forge == "iptc-digital-capture":
        _exiftool(ai_jpeg(target), "-all=", f"-XMP-iptcExt:DigitalSourceType={CAPTURE}")
    else:
        _exiftool(ai_jpeg(target), "-all=")
        digest = hashlib.sha256(target.read_bytes()).hexdigest()
        sidecar = show.pkg / "plate.jpg.xmp"
        config = Path(__file__).resolve().parents[2] / "src/provenance/data/exiftool.config"
        subprocess.run(["exiftool", "-config", str(config), "-q", "-o", str(sidecar),
                        f"-XMP-iptcExt:DigitalSourceType={CAPTURE}",
                        f"-XMP-provenance:ContentHash=sha256:{digest}", str(target)], check=True)
    rc, report, _ = show.gate(show.pkg, capsys=capsys)
    entry = asset(report, "plate.jpg")
    assert entry["classification"] == "not_ai"  # shown as what it claims ...
    assert rc == 1 and entry["status"] == "blocked"  # ... but not proof
    [finding] = [f for f in entry["findings"] if f["rule"] == "unknown-provenance"]
    assert "claims capture (unsigned" in finding["message"]


def test_forged_camera_tags_still_pass_by_default(show: Show, capsys: Capsys) -> None:
    _forged_camera_jpeg(show.pkg / "plate.jpg")
    rc, report, _ = show.gate(show.pkg, capsys=capsys)
    assert rc == 0 and asset(report, "plate.jpg")["classification"] == "not_ai"


def _signed_capture(path: Path, identity: SigningIdentity) -> Path:
    raw = path.with_name("raw.jpg")
    Image.new("RGB", (64, 64), (30, 60, 90)).save(raw, "JPEG")
    action = {"action": "c2pa.created", "digitalSourceType": CAPTURE,
              "softwareAgent": {"name": "Test Camera", "version": "1"}}
    C2paSigner(SigningIdentity(identity.chain_path, identity.key_path)).sign_assertions(
        raw, path, "image/jpeg", [action], [], None)
    raw.unlink()
    return path


def test_a_capture_signed_under_a_host_pinned_anchor_meets_strict_mode(
        show: Show, signing_identity: SigningIdentity, capsys: Capsys, monkeypatch: pytest.MonkeyPatch,
        tmp_path: Path) -> None:
    assert signing_identity.ca_path is not None
    _strict(show)
    _pin_capture_anchor(show, signing_identity.ca_path, monkeypatch, tmp_path)
    _signed_capture(show.pkg / "plate.jpg", signing_identity)
    rc, report, _ = show.gate(show.pkg, capsys=capsys)
    entry = asset(report, "plate.jpg")
    assert entry["classification"] == "not_ai"
    assert rc == 0 and entry["status"] == "clear"


def test_signed_capture_from_an_untrusted_signer_does_not(show: Show, signing_identity: SigningIdentity,
                                                          capsys: Capsys) -> None:
    _strict(show)  # the signer's CA is not a trust anchor here
    _signed_capture(show.pkg / "plate.jpg", signing_identity)
    rc, report, _ = show.gate(show.pkg, capsys=capsys)
    entry = asset(report, "plate.jpg")
    assert rc == 1 and entry["classification"] == "not_ai"
    [finding] = [f for f in entry["findings"] if f["rule"] == "unknown-provenance"]
    assert "signature is untrusted" in finding["message"]


def test_a_trusted_capture_with_changed_bytes_does_not(show: Show, signing_identity: SigningIdentity,
                                                       capsys: Capsys, monkeypatch: pytest.MonkeyPatch,
                                                       tmp_path: Path) -> None:
    assert signing_identity.ca_path is not None
    _strict(show)
    _pin_capture_anchor(show, signing_identity.ca_path, monkeypatch, tmp_path)
    plate = _signed_capture(show.pkg / "plate.jpg", signing_identity)
    data = bytearray(plate.read_bytes())
    data[-10] ^= 0xFF  # inside the image data, after the manifest: the hash no longer matches
    plate.write_bytes(bytes(data))
    rc, report, _ = show.gate(show.pkg, capsys=capsys)
    assert rc == 1 and asset(report, "plate.jpg")["status"] == "blocked"


def test_an_anchor_named_by_the_shows_own_config_proves_nothing(show: Show, signing_identity: SigningIdentity,
                                                                capsys: Capsys) -> None:
    """The hole: whoever can write the show folder names their own CA in provenance.toml (or
    holds the show's signing key, which `signer init --group artists` hands to artists), signs
    "digitalCapture" on an AI picture and meets strict mode. Capture anchors are pinned on the
    host; the show's config cannot add one."""
    assert signing_identity.ca_path is not None
    _strict(show, anchors=signing_identity.ca_path)
    _signed_capture(show.pkg / "plate.jpg", signing_identity)
    rc, report, _ = show.gate(show.pkg, capsys=capsys)
    entry = asset(report, "plate.jpg")
    assert rc == 1 and entry["status"] == "blocked"
    [finding] = [f for f in entry["findings"] if f["rule"] == "unknown-provenance"]
    assert "signature is untrusted" in finding["message"]


def test_the_shows_own_signing_ca_proves_nothing(show: Show, signing_identity: SigningIdentity,
                                                capsys: Capsys) -> None:
    """The show's signing CA (`<show>/.provenance/signing/ca.pem`) makes tags verifiable, not
    captures provable: artists sign with it."""
    assert signing_identity.ca_path is not None
    own = show.config.signing_identity_dir
    own.mkdir(parents=True, exist_ok=True)
    (own / "ca.pem").write_bytes(signing_identity.ca_path.read_bytes())
    _strict(show)
    _signed_capture(show.pkg / "plate.jpg", signing_identity)
    rc, report, _ = show.gate(show.pkg, capsys=capsys)
    assert rc == 1 and asset(report, "plate.jpg")["status"] == "blocked"


def test_a_package_cannot_bring_its_own_capture_anchor(show: Show, signing_identity: SigningIdentity,
                                                      capsys: Capsys, monkeypatch: pytest.MonkeyPatch,
                                                      tmp_path: Path) -> None:
    assert signing_identity.ca_path is not None
    inside = show.pkg / "camera-ca.pem"
    inside.write_bytes(signing_identity.ca_path.read_bytes())
    _strict(show)
    _pin_capture_anchor(show, inside, monkeypatch, tmp_path)
    _signed_capture(show.pkg / "plate.jpg", signing_identity)
    capsys.readouterr()
    rc = main(["gate", "--config", str(show.config_file), str(show.pkg)])
    assert rc == 3
    assert "C2PA capture anchor" in capsys.readouterr().err
