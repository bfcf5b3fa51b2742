"""Metadata reader, signatures and decoys against the real ExifTool."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from provenance.errors import ConfigError
from provenance.evidence import ReaderSettings
from provenance.evidence.metadata import MetadataReader
from provenance.evidence.signatures import SignatureTable
from provenance.identify import identify
from provenance.model import Classification, Risk, Signal
from provenance.pipeline import Inspector
from tests.evidence.conftest import IPTC, exiftool_write, make_jpeg, make_png

pytestmark = pytest.mark.usefixtures("exiftool_available")


@pytest.fixture(scope="module")
def reader() -> MetadataReader:
    r = MetadataReader(ReaderSettings())
    yield r
    r.close()


def signals(reader: MetadataReader, path: Path) -> list[tuple[Signal, str | None]]:
    out = reader.read(identify(path))
    assert not out.errors, out.errors
    return [(e.signal, e.generator) for e in out.evidence if e.signal is not Signal.INFO]


A1111 = ("a lighthouse\nNegative prompt: blurry\nSteps: 20, Sampler: Euler a, CFG scale: 7, "
         "Seed: 1, Size: 512x512, Model hash: abc, Model: sd15")
COMFY_PROMPT = json.dumps({"3": {"class_type": "KSampler", "inputs": {"seed": 1}}})
COMFY_WORKFLOW = json.dumps({"nodes": [{"id": 1}], "links": []})


@pytest.mark.parametrize(("text", "generator"), [
    ({"parameters": A1111}, "Stable Diffusion (AUTOMATIC1111-style)"),
    ({"prompt": COMFY_PROMPT, "workflow": COMFY_WORKFLOW}, "ComfyUI"),
    ({"Software": "NovelAI", "Comment": json.dumps({"steps": 28})}, "NovelAI"),
    ({"invokeai_metadata": json.dumps({"generation_mode": "txt2img"})}, "InvokeAI"),
    ({"sd-metadata": json.dumps({"model": "stable diffusion"})}, "InvokeAI"),
    ({"Dream": '"a cat" -s 50 -S 1'}, "InvokeAI (Dream)"),
    ({"parameters": json.dumps({"prompt": "x", "base_model": "juggernaut"}),
      "fooocus_scheme": "fooocus"}, "Fooocus"),
    ({"Description": "a cat --v 6 Job ID: 0f7c6b1e-1a2b-4c3d-9e8f-0123456789ab"}, "Midjourney"),
], ids=["a1111", "comfyui", "novelai", "invokeai", "sd-metadata", "dream", "fooocus", "midjourney"])
def test_png_generator_chunks(tmp_path: Path, reader: MetadataReader, text, generator) -> None:
    found = signals(reader, make_png(tmp_path / "g.png", text))
    assert found and all(s is Signal.AI_GENERATED for s, _ in found)
    assert generator in {g for _, g in found}


@pytest.mark.parametrize(("assignments", "expected"), [
    ([f"-XMP-iptcExt:DigitalSourceType={IPTC}trainedAlgorithmicMedia"], Signal.AI_GENERATED),
    ([f"-XMP-iptcExt:DigitalSourceType={IPTC}compositeWithTrainedAlgorithmicMedia",
      "-XMP-photoshop:Credit=Edited with Google AI"], Signal.AI_EDITED),
    (["-XMP-photoshop:Credit=Made with Google AI"], Signal.AI_GENERATED),
    ([f"-ExifIFD:UserComment={A1111}"], Signal.AI_GENERATED),
    (["-IFD0:Make=Ideogram AI"], Signal.AI_GENERATED),
    (["-IFD0:Make=Canon", "-IFD0:Model=Canon EOS R5"], Signal.CAPTURE),
    ([f"-XMP-iptcExt:DigitalSourceType={IPTC}digitalCapture"], Signal.CAPTURE),
], ids=["xmp-dst", "xmp-composite-credit", "credit-google", "usercomment-a1111", "ideogram-make",
        "camera", "xmp-capture"])
def test_jpeg_tags(tmp_path: Path, reader: MetadataReader, assignments, expected) -> None:
    path = exiftool_write(make_jpeg(tmp_path / "t.jpg"), *assignments)
    found = signals(reader, path)
    assert found and {s for s, _ in found} == {expected}


def test_quicktime_keys_and_id3(tmp_path: Path, reader: MetadataReader) -> None:
    mp4, tc260, mp3 = tmp_path / "tiktok.mp4", tmp_path / "tc260.mp4", tmp_path / "suno.mp3"
    base = ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc=size=32x24:rate=1",
            "-t", "1", "-pix_fmt", "yuv420p", "-movflags", "use_metadata_tags"]
    subprocess.run([*base, "-metadata", 'AigcInfo={"aigc_label_type":2}', str(mp4)], check=True)
    subprocess.run([*base, "-metadata", 'AIGC={"Label":"1","ContentProducer":"x"}', str(tc260)],
                   check=True)
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "sine=d=0.3", "-metadata",
                    "comment=made with suno; created=2025-01-01; id=abc", str(mp3)], check=True)
    assert signals(reader, mp4) == [(Signal.AI_GENERATED, "TikTok AI-generated label")]
    assert signals(reader, tc260) == [(Signal.AI_GENERATED, "TC260 AIGC label")]
    assert signals(reader, mp3) == [(Signal.AI_GENERATED, "Suno")]


def test_our_declaration(tmp_path: Path, reader: MetadataReader) -> None:
    path = exiftool_write(make_jpeg(tmp_path / "ours.jpg"),
                          "-XMP-provenance:Classification=ai_edited",
                          "-XMP-provenance:Tool=Runway", "-XMP-provenance:ToolVersion=4",
                          "-XMP-provenance:Purpose=previs",
                          "-XMP-provenance:Risks=talent-likeness",
                          "-XMP-provenance:Risks=personal-data")
    out = reader.read(identify(path))
    assert out.declarations is not None
    assert out.declarations.tool == "Runway" and out.declarations.purpose == "previs"
    assert out.declarations.risks == {Risk.TALENT_LIKENESS, Risk.PERSONAL_DATA}
    found = {e.signal for e in out.evidence}
    assert {Signal.AI_EDITED, Signal.DECLARATION} <= found


@pytest.mark.parametrize("make", [
    lambda p: make_png(p / "d.png", {"Comment": "Steps: 3 to assemble the rig"}),
    lambda p: exiftool_write(make_jpeg(p / "d.jpg"), "-IFD0:Software=Paint Shop Pro 9"),
    lambda p: exiftool_write(make_jpeg(p / "d.jpg"), "-IFD0:Software=Microsoft Paint"),
    lambda p: exiftool_write(make_jpeg(p / "d.jpg"), "-IFD0:Artist=ai"),
    lambda p: exiftool_write(make_jpeg(p / "d.jpg"), "-ExifIFD:UserComment=Screenshot"),
    lambda p: make_png(p / "d.png", {"Description": "A plain description, no job"}),
], ids=["steps-comment", "paint-shop", "ms-paint", "artist-ai", "screenshot", "description"])
def test_decoys_do_not_match(tmp_path: Path, reader: MetadataReader, make) -> None:
    assert signals(reader, make(tmp_path)) == []


def test_tiktok_keys_without_aigcinfo_are_not_ai(tmp_path: Path, reader: MetadataReader) -> None:
    mp4 = tmp_path / "human.mp4"
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc=size=32x24:rate=1",
                    "-t", "1", "-pix_fmt", "yuv420p", "-movflags", "use_metadata_tags",
                    "-metadata", "comment=vid:v12044gd0000", "-metadata", "VidMd5=dbedf765",
                    str(mp4)], check=True)
    assert signals(reader, mp4) == []


def test_production_signatures_extend_the_table(tmp_path: Path) -> None:
    row = {"field": "IFD0:Software", "value": r"^StudioGen\b", "signal": "ai_generated",
           "generator": "StudioGen (in-house)"}
    path = exiftool_write(make_jpeg(tmp_path / "s.jpg"), "-IFD0:Software=StudioGen 3.1")
    with Inspector(ReaderSettings(extra_signatures=(row,)), readers=("metadata",)) as ins:
        v = ins.inspect(path)
    assert v.classification is Classification.AI_GENERATED
    assert v.generator == "StudioGen (in-house)"
    with Inspector(readers=("metadata",)) as ins:
        assert ins.inspect(path).classification is Classification.UNKNOWN


@pytest.mark.parametrize("row", [
    {"field": "X:Y", "value": "(", "signal": "ai_generated"},
    {"field": "X:Y", "value": "a", "signal": "definitely_ai"},
    {"field": "X:Y", "signal": "ai_generated"},
])
def test_bad_signature_rows_are_config_errors(row) -> None:
    with pytest.raises(ConfigError):
        SignatureTable([row])


def test_fast_path_skips_only_files_without_metadata(tmp_path: Path) -> None:
    plain = make_jpeg(tmp_path / "plain.jpg")
    tagged = exiftool_write(make_jpeg(tmp_path / "tagged.jpg"),
                            f"-XMP-iptcExt:DigitalSourceType={IPTC}trainedAlgorithmicMedia")
    from provenance.evidence._headers import may_hold_metadata
    assert not may_hold_metadata(plain, "jpeg")
    assert may_hold_metadata(tagged, "jpeg")
    assert not may_hold_metadata(make_png(tmp_path / "p.png"), "png")
    assert may_hold_metadata(make_png(tmp_path / "t.png", {"parameters": A1111}), "png")
    # trailing bytes after EOI could hold a trailer: the fast path must not skip them
    trailer = tmp_path / "trailer.jpg"
    trailer.write_bytes(plain.read_bytes() + b"TRAILERDATA")
    assert may_hold_metadata(trailer, "jpeg")


@pytest.mark.parametrize(
    ("content", "may"),
    [
        (b"3fa1c0  plate_v001.exr\n9c07aa  plate_v002.exr\n", False),  # a checksum list
        (b"TITLE: EP101\n001  AX  V  C  01:00:00:00 01:00:05:00\n", False),  # an EDL
        (b'<?xpacket begin=""?><x:xmpmeta xmlns:x="adobe:ns:meta/"/>', True),  # XMP: ExifTool reads it
        (b'{"prompt": {"3": {"class_type": "KSampler"}}}', True),  # JSON
        (b"%!PS-Adobe-3.0\n%%Creator: someone\n", True),  # PostScript DSC comments
        (b"plain\x00binary", True),
        ("caf\u00e9 \u2014 notes\n".encode(), False),
        (b"\xff\xfe\x00 not utf-8", True),
        (b"x" * (64 * 1024 + 1), True),  # too large to rule out cheaply
    ],
)
def test_fast_path_rules_out_only_plain_text(tmp_path: Path, content: bytes, may: bool) -> None:
    from provenance.evidence._headers import may_hold_metadata

    f = tmp_path / "file.txt"
    f.write_bytes(content)
    assert may_hold_metadata(f, "unknown") is may


def test_markup_text_still_reaches_exiftool(tmp_path: Path, exiftool_available: None) -> None:
    f = tmp_path / "orphan.xmp"  # an XMP packet with no asset beside it is judged as a file
    f.write_text(
        '<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?>'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/" '
        'Iptc4xmpExt:DigitalSourceType="http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"/>'
        '</rdf:RDF></x:xmpmeta><?xpacket end="w"?>'
    )
    from provenance.pipeline import inspect

    assert inspect(f).classification.is_ai


def test_readers_with_nothing_to_read_are_not_run(tmp_path: Path) -> None:
    from provenance.model import Classification
    from provenance.pipeline import Inspector

    notes = tmp_path / "checksums.txt"
    notes.write_text("3fa1c0  plate_v001.exr\n")
    with Inspector() as inspector:
        verdict = inspector.inspect(notes)
        metadata = next(r for r in inspector.readers if r.name == "metadata")
        assert verdict.errors == () and verdict.classification is Classification.UNKNOWN
        assert metadata._exiftool is None  # no ExifTool process was ever needed
        inspector.inspect(make_png(tmp_path / "t.png", {"parameters": A1111}))
        assert metadata._exiftool is not None


def test_inspect_tree_judges_side_by_side_and_keeps_walk_order(tmp_path: Path) -> None:
    from provenance.pipeline import BATCH, Inspector, inspect_tree, iter_files

    for i in range(3 * BATCH + 5):  # several batches per worker, and a short last one
        folder = tmp_path / f"d{i % 3}"
        folder.mkdir(exist_ok=True)
        make_png(folder / f"f{i:03d}.png", {"parameters": A1111} if i % 4 == 0 else {"Comment": f"c{i}"})
    together = list(inspect_tree([tmp_path], workers=2))
    with Inspector() as ins:
        alone = [ins.inspect(p) for p in iter_files([tmp_path])]
    assert [v.path for v in together] == [v.path for v in alone] == [str(p) for p in iter_files([tmp_path])]
    assert [(v.sha256, v.classification) for v in together] == [(v.sha256, v.classification) for v in alone]
    ai = sum(v.classification is Classification.AI_GENERATED for v in together)
    assert ai == len(range(0, 3 * BATCH + 5, 4))
