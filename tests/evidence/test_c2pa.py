"""C2PA reader against real c2pa-python signing and reading."""

from __future__ import annotations

from pathlib import Path

import c2pa
import pytest

from provenance.evidence import ReaderSettings
from provenance.evidence.c2pa import C2paReader, judge_store
from provenance.identify import identify
from provenance.model import Classification, Risk, Signal
from provenance.pipeline import Inspector
from tests.evidence.conftest import IPTC, Sign, created_action, make_jpeg, manifest

AI = IPTC + "trainedAlgorithmicMedia"


@pytest.fixture(scope="module")
def reader() -> C2paReader:
    r = C2paReader(ReaderSettings())
    yield r
    r.close()


def conclusion(reader: C2paReader, path: Path):
    out = reader.read(identify(path))
    assert not out.errors, out.errors
    decisive = [e for e in out.evidence if e.signal is not Signal.INFO]
    return out, decisive


def test_ai_generated_jpeg(tmp_path: Path, sign: Sign, reader: C2paReader) -> None:
    dst = sign(make_jpeg(tmp_path / "src.jpg"), tmp_path / "gen.jpg", manifest(created_action(AI)),
               "image/jpeg")
    out, decisive = conclusion(reader, dst)
    assert [e.signal for e in decisive] == [Signal.AI_GENERATED]
    assert decisive[0].generator == "ExampleGen 2"
    assert out.c2pa is not None and out.c2pa.present
    assert (out.c2pa.integrity, out.c2pa.trust) == ("ok", "untrusted")
    assert out.c2pa.manifests[0].active and out.c2pa.manifests[0].claim_generator


def test_trust_anchor_makes_our_signature_trusted(tmp_path: Path, sign: Sign,
                                                  trusted_settings: ReaderSettings) -> None:
    dst = sign(make_jpeg(tmp_path / "src.jpg"), tmp_path / "gen.jpg", manifest(created_action(AI)),
               "image/jpeg")
    r = C2paReader(trusted_settings)
    try:
        out = r.read(identify(dst))
    finally:
        r.close()
    assert out.c2pa is not None and out.c2pa.trust == "trusted"


@pytest.mark.parametrize("action", [
    created_action("https://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"),
    created_action(None, parameters={"com.adobe.digitalSourceType": AI}),
    created_action(IPTC + "algorithmicMedia"),
], ids=["https-uri", "adobe-parameter", "algorithmicMedia"])
def test_ai_source_type_variants(tmp_path: Path, sign: Sign, reader: C2paReader, action) -> None:
    dst = sign(make_jpeg(tmp_path / "s.jpg"), tmp_path / "v.jpg", manifest(action), "image/jpeg")
    _, decisive = conclusion(reader, dst)
    assert [e.signal for e in decisive] == [Signal.AI_GENERATED]


def test_v1_actions_label(tmp_path: Path, sign: Sign, reader: C2paReader) -> None:
    act = {"action": "c2pa.created", "digitalSourceType": AI, "softwareAgent": "OldGen 1"}
    dst = sign(make_jpeg(tmp_path / "s.jpg"), tmp_path / "v1.jpg",
               manifest(act, label="c2pa.actions"), "image/jpeg")
    _, decisive = conclusion(reader, dst)
    assert [e.signal for e in decisive] == [Signal.AI_GENERATED]


def test_bing_style_claim_without_dst(tmp_path: Path, sign: Sign, reader: C2paReader) -> None:
    act = created_action(None, agent="Image Creator from Designer", description="AI Generated Image")
    act["softwareAgent"] = "Image Creator from Designer"
    dst = sign(make_jpeg(tmp_path / "s.jpg"), tmp_path / "bing.jpg", manifest(act), "image/jpeg")
    _, decisive = conclusion(reader, dst)
    assert [e.signal for e in decisive] == [Signal.AI_GENERATED]


def test_agent_name_alone_is_not_ai(tmp_path: Path, sign: Sign, reader: C2paReader) -> None:
    act = created_action(None, agent="Image Creator from Designer")
    dst = sign(make_jpeg(tmp_path / "s.jpg"), tmp_path / "x.jpg", manifest(act), "image/jpeg")
    _, decisive = conclusion(reader, dst)
    assert [e.signal for e in decisive] == [Signal.CAPTURE]


def test_vendor_generative_ai_assertion(tmp_path: Path, sign: Sign, reader: C2paReader) -> None:
    definition = manifest(created_action(None),
                          assertions=[{"label": "com.adobe.generative-ai", "data": {"model": "x"}}])
    dst = sign(make_jpeg(tmp_path / "s.jpg"), tmp_path / "v.jpg", definition, "image/jpeg")
    _, decisive = conclusion(reader, dst)
    assert [e.signal for e in decisive] == [Signal.AI_GENERATED]


def test_capture_is_positive_provenance(tmp_path: Path, sign: Sign, reader: C2paReader) -> None:
    dst = sign(make_jpeg(tmp_path / "s.jpg"), tmp_path / "cap.jpg",
               manifest(created_action(IPTC + "digitalCapture", agent="Camera")), "image/jpeg")
    _, decisive = conclusion(reader, dst)
    assert [e.signal for e in decisive] == [Signal.CAPTURE]


def test_ai_claim_only_in_parent_ingredient(tmp_path: Path, sign: Sign, reader: C2paReader) -> None:
    """ChatGPT/DALL·E shape: the active manifest only says c2pa.opened."""
    gen = sign(make_jpeg(tmp_path / "s.jpg"), tmp_path / "gen.jpg", manifest(created_action(AI)),
               "image/jpeg")
    edited = sign(gen, tmp_path / "edit.jpg", {"claim_generator_info": [{"name": "Editor"}],
                                                "title": "edit"}, "image/jpeg",
                  intent=c2pa.C2paBuilderIntent.EDIT)
    out, decisive = conclusion(reader, edited)
    assert len(out.c2pa.manifests) == 2
    assert [e.signal for e in decisive] == [Signal.AI_GENERATED]
    assert not decisive[0].manifest or decisive[0].manifest != out.c2pa.manifests[0].label


def test_ai_component_in_human_asset_is_ai_edited(tmp_path: Path, sign: Sign,
                                                  reader: C2paReader) -> None:
    gen = sign(make_jpeg(tmp_path / "s.jpg"), tmp_path / "gen.jpg", manifest(created_action(AI)),
               "image/jpeg")
    comp = manifest(created_action(IPTC + "digitalCapture", agent="Camera"),
                    {"action": "c2pa.placed", "parameters": {"ingredientIds": ["sky"]}})
    dst = sign(make_jpeg(tmp_path / "plate.jpg", (1, 2, 3)), tmp_path / "comp.jpg", comp,
               "image/jpeg", ingredients=[({"title": "sky", "relationship": "componentOf",
                                            "label": "sky"}, "image/jpeg", gen)])
    _, decisive = conclusion(reader, dst)
    assert [e.signal for e in decisive] == [Signal.AI_EDITED]


def test_composite_dst_on_edit_is_ai_edited(tmp_path: Path, sign: Sign, reader: C2paReader) -> None:
    comp = manifest(created_action(IPTC + "digitalCapture", agent="Camera"),
                    {"action": "c2pa.edited",
                     "digitalSourceType": IPTC + "compositeWithTrainedAlgorithmicMedia",
                     "softwareAgent": {"name": "GenFill"}})
    dst = sign(make_jpeg(tmp_path / "s.jpg"), tmp_path / "fill.jpg", comp, "image/jpeg")
    _, decisive = conclusion(reader, dst)
    assert [e.signal for e in decisive] == [Signal.AI_EDITED]
    assert decisive[0].generator == "GenFill"


def test_tampered_bytes_keep_the_ai_claim(tmp_path: Path, sign: Sign) -> None:
    dst = sign(make_jpeg(tmp_path / "s.jpg"), tmp_path / "gen.jpg", manifest(created_action(AI)),
               "image/jpeg")
    data = bytearray(dst.read_bytes())
    data[-10] ^= 0xFF  # inside the entropy-coded image, after the manifest
    dst.write_bytes(bytes(data))
    with Inspector(readers=("c2pa",)) as ins:
        v = ins.inspect(dst)
    assert v.classification is Classification.AI_GENERATED
    assert v.tampered and v.c2pa.integrity == "tampered"
    assert any(c.endswith("dataHash.mismatch") for c in v.c2pa.codes)


def test_declaration_assertion(tmp_path: Path, sign: Sign, reader: C2paReader) -> None:
    decl = {"label": "org.provenance-tool.declaration",
            "data": {"classification": "ai_generated", "tool": {"name": "Runway", "version": "4"},
                     "purpose": "previs", "risks": ["talent-likeness", "bogus"]}}
    dst = sign(make_jpeg(tmp_path / "s.jpg"), tmp_path / "d.jpg",
               manifest(created_action(AI), assertions=[decl]), "image/jpeg")
    out, decisive = conclusion(reader, dst)
    assert out.declarations is not None
    assert (out.declarations.tool, out.declarations.tool_version) == ("Runway", "4")
    assert out.declarations.risks == frozenset({Risk.TALENT_LIKENESS})
    assert Signal.DECLARATION in {e.signal for e in decisive}


def test_c2pa_sidecar_is_read(tmp_path: Path, sign: Sign, reader: C2paReader) -> None:
    src = make_jpeg(tmp_path / "clip.jpg")
    sign(src, tmp_path / "signed-out.jpg", manifest(created_action(AI)), "image/jpeg",
         no_embed=True)
    (tmp_path / "signed-out.jpg.c2pa").rename(tmp_path / "clip.jpg.c2pa")
    out, decisive = conclusion(reader, src)
    assert [e.signal for e in decisive] == [Signal.AI_GENERATED]
    assert out.c2pa.sidecar == str(tmp_path / "clip.jpg.c2pa")
    assert out.c2pa.integrity == "ok"


def test_remote_only_manifest_is_evidence_not_error(tmp_path: Path, sign: Sign,
                                                    reader: C2paReader) -> None:
    url = "https://manifests.example.com/urn-uuid-1234"
    dst = sign(make_jpeg(tmp_path / "s.jpg"), tmp_path / "remote.jpg",
               manifest(created_action(AI)), "image/jpeg", no_embed=True, remote_url=url)
    out = reader.read(identify(dst))
    assert not out.errors
    assert [e.signal for e in out.evidence] == [Signal.REMOTE]
    assert out.c2pa is not None and out.c2pa.remote_url == url and not out.c2pa.present


def test_unsupported_format_is_silent(tmp_path: Path, reader: C2paReader) -> None:
    exr = tmp_path / "plate.exr"
    exr.write_bytes(b"v/1\x01" + b"\x02\x00\x00\x00" + b"\x00" * 200)
    out = reader.read(identify(exr))
    assert (out.evidence, out.errors, out.c2pa) == ([], [], None)


def _store(active: dict, **others: dict) -> dict:
    manifests = {"active": active, **others}
    return {"active_manifest": "active", "manifests": manifests}


def _m(*actions: dict, ingredients: list[dict] | None = None) -> dict:
    return {"claim_generator": "gen", "ingredients": ingredients or [],
            "assertions": [{"label": "c2pa.actions.v2", "data": {"actions": list(actions)}}]}


def test_synthid_edit_on_ai_created_chain_stays_generated() -> None:
    """corpus d08: a non-AI `composite` edit on top; the parent's AI edit is a watermark."""
    parent = _m({"action": "c2pa.created", "digitalSourceType": AI},
                {"action": "c2pa.edited", "digitalSourceType": AI})
    active = _m({"action": "c2pa.opened"},
                {"action": "c2pa.edited", "digitalSourceType": IPTC + "composite"},
                ingredients=[{"relationship": "parentOf", "active_manifest": "parent"}])
    assert judge_store(_store(active, parent=parent)).signal is Signal.AI_GENERATED


def test_ai_edit_on_human_chain_is_edited() -> None:
    active = _m({"action": "c2pa.opened"}, {"action": "c2pa.edited", "digitalSourceType": AI})
    assert judge_store(_store(active)).signal is Signal.AI_EDITED


def test_ingredient_level_source_type() -> None:
    active = _m({"action": "c2pa.opened"}, ingredients=[
        {"relationship": "parentOf", "digitalSourceType": AI}])
    assert judge_store(_store(active)).signal is Signal.AI_GENERATED
    active = _m({"action": "c2pa.created", "digitalSourceType": IPTC + "digitalCapture"},
                ingredients=[{"relationship": "componentOf", "digitalSourceType": AI}])
    assert judge_store(_store(active)).signal is Signal.AI_EDITED
