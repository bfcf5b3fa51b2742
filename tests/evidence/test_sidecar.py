"""XMP sidecars beside assets: bound by ContentHash, stale ones reported, not trusted."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from provenance.evidence._exiftool import CONFIG_FILE
from provenance.model import Classification, Risk, Signal
from provenance.pipeline import Inspector, iter_files
from tests.evidence.conftest import IPTC

pytestmark = pytest.mark.usefixtures("exiftool_available")
SAMPLE_EXR = Path(__file__).resolve().parents[2] / "sample_assets/show/working/plates/plate.exr"


def _plate(tmp_path: Path) -> Path:
    plate = tmp_path / "plate.exr"
    if SAMPLE_EXR.is_file():
        shutil.copyfile(SAMPLE_EXR, plate)
    else:
        plate.write_bytes(b"v/1\x01\x02\x00\x00\x00" + bytes(range(256)) * 4)
    return plate


def _write_sidecar(path: Path, *assignments: str) -> Path:
    subprocess.run(["exiftool", "-config", str(CONFIG_FILE), "-q", *assignments, str(path)],
                   check=True, capture_output=True)
    return path


def _inspect(path: Path):
    with Inspector() as ins:
        return ins.inspect(path)


def test_fresh_sidecar_counts(tmp_path: Path) -> None:
    plate = _plate(tmp_path)
    from provenance.identify import sha256_file
    _write_sidecar(tmp_path / "plate.exr.xmp",
                   f"-XMP-iptcExt:DigitalSourceType={IPTC}trainedAlgorithmicMedia",
                   "-XMP-provenance:Tool=Runway", "-XMP-provenance:Risks=third-party-ip",
                   f"-XMP-provenance:ContentHash=sha256:{sha256_file(plate)}")
    v = _inspect(plate)
    assert v.classification is Classification.AI_GENERATED, v.evidence
    assert v.declarations.tool == "Runway" and v.declarations.risks == {Risk.THIRD_PARTY_IP}
    assert not v.errors
    assert list(iter_files([tmp_path])) == [plate]  # the sidecar is not an asset itself


def test_stale_sidecar_is_reported_not_trusted_and_its_ai_claim_is_a_possible_derivation(
        tmp_path: Path) -> None:
    plate = _plate(tmp_path)
    _write_sidecar(tmp_path / "plate.exr.xmp",
                   f"-XMP-iptcExt:DigitalSourceType={IPTC}trainedAlgorithmicMedia",
                   "-XMP-provenance:Tool=Runway",
                   "-XMP-provenance:ContentHash=sha256:" + "0" * 64)
    v = _inspect(plate)
    assert [e.field for e in v.evidence if e.signal is Signal.STALE] == [
        "XMP-provenance:ContentHash"]
    assert v.declarations.tool is None  # its declarations described other bytes
    assert any("stale" in e.field for e in v.evidence if e.signal is Signal.INFO)
    # Evidence of derivation, never silence (issue 11): AI, naming the sidecar and its hash.
    assert v.classification is Classification.AI_GENERATED
    [derived] = [e for e in v.evidence if e.field == "possibly_derived_from"]
    assert "plate.exr.xmp" in derived.value and "0" * 64 in derived.value


def test_a_stale_sidecar_claiming_capture_proves_nothing(tmp_path: Path) -> None:
    plate = _plate(tmp_path)
    _write_sidecar(tmp_path / "plate.exr.xmp", f"-XMP-iptcExt:DigitalSourceType={IPTC}digitalCapture",
                   "-XMP-provenance:ContentHash=sha256:" + "0" * 64)
    v = _inspect(plate)
    assert v.classification is Classification.UNKNOWN
    assert not [e for e in v.evidence if e.field == "possibly_derived_from"]


def test_unbound_stem_sidecar_ai_claim_counts_capture_does_not(tmp_path: Path) -> None:
    plate = _plate(tmp_path)
    side = _write_sidecar(tmp_path / "plate.xmp",
                          f"-XMP-iptcExt:DigitalSourceType={IPTC}digitalCapture")
    assert _inspect(plate).classification is Classification.UNKNOWN
    side.unlink()
    _write_sidecar(side, f"-XMP-iptcExt:DigitalSourceType={IPTC}compositeSynthetic")
    assert _inspect(plate).classification is Classification.AI_EDITED
