"""tag → inspect, plain exiftool and c2pa-python all read back what was declared."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import c2pa
import pytest

from provenance.evidence import ReaderSettings
from provenance.identity import SigningIdentity
from provenance.model import Classification, Risk
from provenance.pipeline import Inspector
from provenance.tagging import Outcome, Tagger, TagSpec
from provenance.tagging.spec import DECLARATION_LABEL, IPTC
from tests.tagging.conftest import temps_in

# format → (embeds XMP, embeds C2PA); neither means a sidecar
FORMATS = {
    "jpeg": (True, True),
    "png": (True, True),
    "webp": (True, True),
    "tiff": (True, True),
    "mp4": (True, True),
    "mov": (True, True),
    "wav": (False, True),  # ExifTool cannot write WAV
    "exr": (False, False),
    "dpx": (False, False),
    "mxf": (False, False),
}
MIME = {"jpeg": "image/jpeg", "png": "image/png", "webp": "image/webp", "tiff": "image/tiff",
        "mp4": "video/mp4", "mov": "video/quicktime", "wav": "audio/wav"}


def plain_exiftool(path: Path) -> dict[str, object]:
    """ExifTool with no config file at all: what any downstream tool sees."""
    out = subprocess.run(["exiftool", "-j", "-G1", "-XMP:all", "--", str(path)],
                         capture_output=True, check=True, text=True).stdout
    return dict(json.loads(out)[0])


def c2pa_store(path: Path, mime: str, ca_pem: str) -> dict[str, object]:
    ctx = c2pa.Context.from_dict({"trust": {"trust_anchors": ca_pem},
                                  "verify": {"remote_manifest_fetch": False}})
    with open(path, "rb") as fh, c2pa.Reader(mime, fh, context=ctx) as reader:
        return dict(json.loads(reader.json()))


@pytest.mark.parametrize("kind", ["generated", "edited"])
@pytest.mark.parametrize("fmt", list(FORMATS))
def test_round_trip(fmt: str, kind: str, media: Callable[..., Path], tagger: Tagger,
                    reader_settings: ReaderSettings, signing_identity: SigningIdentity) -> None:
    path = media(fmt)
    spec = TagSpec.make(kind, "Adobe Firefly", "4.10", "matte extension",
                        ["talent-likeness", "third-party-ip"])
    result = tagger.tag(path, spec)
    has_xmp, has_c2pa = FORMATS[fmt]
    assert result.outcome is (Outcome.WRITTEN if has_xmp or has_c2pa else Outcome.SIDECAR), result
    assert temps_in(path.parent) == []

    want = (Classification.AI_GENERATED if kind == "generated" else Classification.AI_EDITED)
    with Inspector(reader_settings) as inspector:
        verdict = inspector.inspect(path)
    assert verdict.errors == ()
    assert verdict.classification is want
    assert verdict.declarations.tool == "Adobe Firefly"
    assert verdict.generator is not None and verdict.generator.startswith("Adobe Firefly")
    assert verdict.declarations.risks == {Risk.TALENT_LIKENESS, Risk.THIRD_PARTY_IP}

    dst = IPTC + ("trainedAlgorithmicMedia" if kind == "generated"
                  else "compositeWithTrainedAlgorithmicMedia")
    xmp_file = path if has_xmp else Path(f"{path}.xmp")
    if has_xmp or not has_c2pa:
        tags = plain_exiftool(xmp_file)
        assert tags["XMP-iptcExt:DigitalSourceType"] == dst
        # IPTC 2025.1's own AI properties carry the tool; our namespace only what IPTC cannot.
        assert tags["XMP-iptcExt:AISystemUsed"] == "Adobe Firefly"
        assert str(tags["XMP-iptcExt:AISystemVersionUsed"]) in ("4.10", "4.1")  # JSON numbers
        assert not {"XMP-provenance:Tool", "XMP-provenance:ToolVersion",
                    "XMP-provenance:Classification"} & set(tags)
        assert sorted(tags["XMP-provenance:Risks"]) == ["talent-likeness", "third-party-ip"]
    if not has_xmp and not has_c2pa:
        assert tags["XMP-provenance:ContentHash"] == f"sha256:{verdict.sha256}"
        assert result.sha256_before == result.sha256_after == verdict.sha256

    if has_c2pa:
        assert verdict.c2pa.trust == "trusted" and verdict.c2pa.integrity == "ok"
        assert signing_identity.ca_path is not None
        store = c2pa_store(path, MIME[fmt], signing_identity.ca_path.read_text())
        assert store["validation_state"] == "Trusted"
        active = store["manifests"][store["active_manifest"]]  # type: ignore[index]
        labels = {a["label"]: a["data"] for a in active["assertions"]}
        assert labels[DECLARATION_LABEL] == spec.declaration()
        actions = labels["c2pa.actions.v2"]["actions"]
        ours = [a for a in actions if a.get("digitalSourceType") == dst]
        assert ours and ours[0]["softwareAgent"] == {"name": "Adobe Firefly", "version": "4.10"}
        assert ours[0]["action"] == ("c2pa.created" if kind == "generated" else "c2pa.edited")
        assert "thumbnail" not in active


def test_samples_classify_as_expected(reader_settings: ReaderSettings) -> None:
    """The committed sample show reads as sample_assets/expected.tsv says."""
    from tests.tagging.conftest import SAMPLES

    ca = (SAMPLES / "test-signing-identity" / "ca.pem").read_text()
    rows = (SAMPLES / "expected.tsv").read_text().splitlines()[1:]
    assert len(rows) >= 12
    with Inspector(ReaderSettings(trust_anchors_pem=ca)) as inspector:
        for row in rows:
            rel, cls, fmt, _note = row.split("\t")
            verdict = inspector.inspect(SAMPLES / rel)
            assert (str(verdict.classification), verdict.format) == (cls, fmt), rel
    total = sum(p.stat().st_size for p in (SAMPLES / "show").rglob("*") if p.is_file())
    assert total < 2_000_000
