"""`c2pa.soft-binding`: `tag` writes our perceptual fingerprint into the C2PA manifest (ISCC,
`io.iscc.v0`), read back through c2pa-python; a soft binding in a manifest is memory."""

from __future__ import annotations

import base64
import shutil
from pathlib import Path

import pytest
from PIL import Image, ImageOps

from provenance.cli import main
from provenance.identity import SigningIdentity
from provenance.memory import soft_binding
from provenance.tagging import tag
from provenance.tagging.c2pa_sign import C2paSigner, assertion_in, read_store
from tests.gate.conftest import Show, asset
from tests.memory.conftest import fp

pytestmark = pytest.mark.usefixtures("media_tools")


def test_tag_writes_an_iscc_soft_binding_of_the_picture(
        corpus_dir: Path, tmp_path: Path, signing_identity: SigningIdentity) -> None:
    iscc_core = pytest.importorskip("iscc_core")
    photo = tmp_path / "matte.jpg"
    shutil.copyfile(corpus_dir / "d23_crater-lake.jpeg", photo)
    photo.chmod(0o644)
    before = fp(photo).frames[0].picture
    result = tag(photo, kind="generated", tool="Adobe Firefly", identity=signing_identity)
    assert result.reason is None, result
    assert signing_identity.ca_path is not None
    store = read_store(photo, "image/jpeg", signing_identity.ca_path.read_text())
    assert store is not None and store.get("validation_state") == "Trusted"  # the assertion is well formed
    data = assertion_in(store, soft_binding.LABEL)
    assert data is not None and data["alg"] == "io.iscc.v0"
    [block] = data["blocks"]
    raw = base64.b64decode(block["value"])
    # An ISCC unit other tools decode: Content-Code, Image, v0, 256 bits; then our picture hash.
    assert iscc_core.decode_header(raw)[:4] == (iscc_core.MT.CONTENT, iscc_core.ST_CC.IMAGE,
                                                iscc_core.VS.V0, 7)
    assert int.from_bytes(raw[2:], "big") == before == fp(photo).frames[0].picture


def _sign_with_soft_binding(path: Path, picture_of: Path, identity: SigningIdentity) -> None:
    """Sign `path` with a manifest that records no AI, only the soft binding of another
    file's picture (what an editor's export records of the ingredient it was made from)."""
    signer = C2paSigner(identity)
    assertion = soft_binding.assertion(fp(picture_of))
    assert assertion is not None
    signed = path.with_name("signed-" + path.name)
    signer.sign_assertions(path, signed, "image/jpeg", [{"action": "c2pa.created", "digitalSourceType":
                           "http://cv.iptc.org/newscodes/digitalsourcetype/digitalCapture"}],
                           [assertion], None)
    signed.replace(path)


def test_a_soft_binding_is_matched_against_its_original_once_the_original_is_seen(
        show: Show, corpus_dir: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path,
        signing_identity: SigningIdentity) -> None:
    source = tmp_path / "sky.png"
    shutil.copyfile(corpus_dir / "d13_invokeai.png", source)  # AI by its own InvokeAI metadata
    # Mirrored: the pixels alone no longer look like the original to the perceptual hash.
    mirrored = show.pkg / "sky_flop.jpg"
    ImageOps.mirror(Image.open(source).convert("RGB")).save(mirrored, quality=90)
    _sign_with_soft_binding(mirrored, source, signing_identity)
    plain = show.pkg / "sky_flop_plain.jpg"
    ImageOps.mirror(Image.open(source).convert("RGB")).save(plain, quality=90)

    rc, report, _ = show.gate(show.pkg, capsys=capsys)
    assert rc == 0, report  # the original is not in memory yet

    original = show.root / "working" / "sky_v003.png"
    original.parent.mkdir(parents=True)
    shutil.copyfile(source, original)
    assert main(["scan", "--config", str(show.config_file), str(original.parent)]) in (0, 1)
    rc, report, _ = show.gate(show.pkg, capsys=capsys)
    derived = asset(report, "sky_flop.jpg")
    assert rc == 1 and derived["status"] == "blocked", derived
    assert any(f"derived from {original}" in m for m in derived["memory"])
    assert asset(report, "sky_flop_plain.jpg")["status"] == "clear"  # what the pixels alone give
