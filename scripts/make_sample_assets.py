#!/usr/bin/env python3
"""Make the committed sample show under sample_assets/ (deterministic pixel and audio content).

    .venv/bin/python scripts/make_sample_assets.py            # (re)build everything
    .venv/bin/python scripts/make_sample_assets.py --new-identity   # also replace the test CA

Pixels, audio and text chunks come from fixed seeds, so re-running gives the same media
essence. C2PA manifests carry UUIDs and signing times, so signed files differ byte-wise
between runs; that is expected. The signing chain under sample_assets/test-signing-identity/
is TEST ONLY: it is committed so anyone can re-sign the samples and so the sample show can
list its CA as a trust anchor.

Needs ExifTool and ffmpeg on PATH and c2pa-python + Pillow in the interpreter.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import random
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import c2pa
from PIL import Image, PngImagePlugin

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))

from provenance.approvals.keys import public_pem  # noqa: E402
from provenance.identity import SigningIdentity, create_identity, write_private, write_public  # noqa: E402

OUT = REPO / "sample_assets"
SHOW = OUT / "show"
IDENTITY_DIR = OUT / "test-signing-identity"
TRUST_DIR = OUT / "test-trust"
IPTC = "http://cv.iptc.org/newscodes/digitalsourcetype/"
GENERATOR = {"name": "provenance-sample-assets", "version": "1"}
W, H = 64, 48

IDENTITY_README = """\
# TEST ONLY — NEVER FOR PRODUCTION

This CA and signing key sign the committed sample assets and the test suite's fixtures.
The private keys are public (they are in this repository), so anything signed with them
proves nothing. Never register this CA as a trust anchor outside `sample_assets/` and tests.

Made by `scripts/make_sample_assets.py --new-identity` with
`provenance.identity.create_identity` (organisation "Provenance TEST ONLY").
"""


TRUST_README = """\
# TEST ONLY — NEVER FOR PRODUCTION

`admin.key` is the sample show's approvers-registry admin key and `trust.toml` pins its public
half, as `/etc/provenance/trust.toml` does on a real host. `./dev demo` points
`PROVENANCE_TRUST` here. The private key is public (it is in this repository, derived from a
fixed seed by `scripts/make_sample_assets.py`), so a registry signed with it proves nothing.
"""


def write_trust() -> None:
    """The demo's TEST-ONLY trust root: a fixed admin key and a trust file pinning it."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    seed = hashlib.sha256(b"provenance sample admin key, TEST ONLY").digest()
    key = Ed25519PrivateKey.from_private_bytes(seed)
    TRUST_DIR.mkdir(parents=True, exist_ok=True)
    write_private(TRUST_DIR / "admin.key", key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    write_public(TRUST_DIR / "admin.key.pub", public_pem(key.public_key()).encode("ascii"))
    write_public(TRUST_DIR / "trust.toml", b'# TEST ONLY: the sample show\'s trust root (see README.md)\n'
                                           b'admin_keys = ["admin.key.pub"]\nthreshold = 1\n')
    (TRUST_DIR / "README.md").write_text(TRUST_README)


# ---------------------------------------------------------------- pixels and sound

def pixels(seed: int, size: tuple[int, int] = (W, H)) -> Image.Image:
    """A smooth gradient plus seeded noise: compresses small, differs per seed."""
    rng = random.Random(seed)
    w, h = size
    base = (rng.randrange(256), rng.randrange(256), rng.randrange(256))
    data = bytearray()
    for y in range(h):
        for x in range(w):
            n = rng.randrange(24)
            data += bytes(((base[0] + 3 * x + n) % 256, (base[1] + 4 * y + n) % 256,
                           (base[2] + x + y) % 256))
    return Image.frombytes("RGB", size, bytes(data))


def encode(img: Image.Image, fmt: str, **kw: Any) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)
    return buf.getvalue()


def ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", *args], check=True)


def make_mp4(dst: Path) -> None:
    ffmpeg("-f", "lavfi", "-i", f"testsrc=size={W}x{H}:rate=10:duration=1",
           "-c:v", "libx264", "-preset", "veryfast", "-threads", "1", "-pix_fmt", "yuv420p",
           "-map_metadata", "-1", "-fflags", "+bitexact", "-flags:v", "+bitexact", str(dst))


def make_wav(dst: Path) -> None:
    ffmpeg("-f", "lavfi", "-i", "sine=frequency=440:sample_rate=8000:duration=0.5",
           "-ac", "1", "-c:a", "pcm_s16le", "-map_metadata", "-1",
           "-fflags", "+bitexact", "-flags:a", "+bitexact", str(dst))


def make_still(dst: Path, codec: str) -> None:
    extra = ["-pix_fmt", "rgb48le"] if codec == "dpx" else ["-pix_fmt", "gbrpf32le",
                                                              "-compression", "zip1"]
    # Not testsrc: that is what the AI clip is made of, and content memory rightly knew the
    # plate for its first frame.
    ffmpeg("-f", "lavfi", "-i", f"mandelbrot=size={W}x{H}:rate=1", "-frames:v", "1",
           "-c:v", codec, *extra, "-map_metadata", "-1", "-fflags", "+bitexact",
           "-flags:v", "+bitexact", str(dst))


# ---------------------------------------------------------------- C2PA

def context() -> c2pa.Context:
    # Thumbnails off: they would add ~30 KB per image to a tree meant to stay tiny.
    return c2pa.Context.from_dict({"builder": {"thumbnail": {"enabled": False}},
                                   "verify": {"remote_manifest_fetch": False}})


def signer(identity: SigningIdentity) -> c2pa.Signer:
    info = c2pa.C2paSignerInfo(alg=c2pa.C2paSigningAlg.ES256, sign_cert=identity.chain_pem(),
                               private_key=identity.key_pem(), ta_url=None)
    return c2pa.Signer.from_info(info)


def actions(*acts: dict[str, Any]) -> dict[str, Any]:
    return {"label": "c2pa.actions.v2", "data": {"actions": list(acts)}}


def sign(identity: SigningIdentity, manifest: dict[str, Any], mime: str, src: bytes,
         ingredients: tuple[tuple[dict[str, Any], str, bytes], ...] = ()) -> bytes:
    manifest = {"claim_generator_info": [GENERATOR], **manifest}
    out = io.BytesIO()
    with c2pa.Builder(manifest, context=context()) as builder:
        for ingredient, ing_mime, data in ingredients:
            builder.add_ingredient(ingredient, ing_mime, io.BytesIO(data))
        builder.sign(signer(identity), mime, io.BytesIO(src), out)
    return out.getvalue()


def created(title: str, source_type: str, agent: str, description: str) -> dict[str, Any]:
    return {"title": title, "assertions": [actions({
        "action": "c2pa.created",
        "digitalSourceType": IPTC + source_type,
        "softwareAgent": {"name": agent, "version": "1.0"},
        "parameters": {"description": description},
    })]}


def ai_generated(identity: SigningIdentity, title: str, mime: str, src: bytes) -> bytes:
    return sign(identity, created(title, "trainedAlgorithmicMedia", "SampleGen",
                                  "text-to-image (sample)"), mime, src)


def ai_edited_via_ingredient(identity: SigningIdentity) -> bytes:
    """A captured photo with an AI-generated patch placed in it.

    The active manifest says only opened + placed (no digital source type); the AI claim
    lives solely in the componentOf ingredient's own manifest, as real editors write it.
    """
    photo = pixels(30)
    patch = pixels(31, (16, 16))
    parent = sign(identity, created("photo.jpg", "digitalCapture", "SampleCam", "capture"),
                  "image/jpeg", encode(photo, "JPEG", quality=85))
    component = ai_generated(identity, "patch.png", "image/png", encode(patch, "PNG"))
    comp = photo.copy()
    comp.paste(patch, (24, 16))
    manifest = {"title": "shot010_comp.jpg", "assertions": [actions(
        {"action": "c2pa.opened", "parameters": {"ingredientIds": ["parent"]}},
        {"action": "c2pa.placed", "parameters": {"ingredientIds": ["patch"]}},
    )]}
    return sign(identity, manifest, "image/jpeg", encode(comp, "JPEG", quality=85), (
        ({"title": "photo.jpg", "relationship": "parentOf", "label": "parent"},
         "image/jpeg", parent),
        ({"title": "patch.png", "relationship": "componentOf", "label": "patch"},
         "image/png", component),
    ))


# ---------------------------------------------------------------- other markers

def a1111_png() -> bytes:
    info = PngImagePlugin.PngInfo()
    info.add_text("parameters",
                  "a lighthouse at dusk, volumetric fog\nNegative prompt: blurry\n"
                  "Steps: 20, Sampler: Euler a, CFG scale: 7, Seed: 1234567, Size: 64x48, "
                  "Model hash: 31e35c80fc, Model: sd_xl_base_1.0")
    return encode(pixels(40), "PNG", pnginfo=info)


def comfyui_png() -> bytes:
    prompt = {"3": {"class_type": "KSampler", "inputs": {"seed": 42, "steps": 20, "cfg": 7.0,
                                                         "sampler_name": "euler"}},
              "4": {"class_type": "CheckpointLoaderSimple",
                    "inputs": {"ckpt_name": "sd_xl_base_1.0.safetensors"}},
              "6": {"class_type": "CLIPTextEncode", "inputs": {"text": "a red door"}}}
    workflow = {"last_node_id": 6, "nodes": [{"id": 3, "type": "KSampler"},
                                             {"id": 4, "type": "CheckpointLoaderSimple"}],
                "version": 0.4}
    info = PngImagePlugin.PngInfo()
    info.add_text("prompt", json.dumps(prompt, sort_keys=True))
    info.add_text("workflow", json.dumps(workflow, sort_keys=True))
    return encode(pixels(41), "PNG", pnginfo=info)


def camera_jpeg(seed: int) -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "Canon"  # Make
    exif[0x0110] = "Canon EOS R5"  # Model
    exif[0x0132] = "2024:05:01 10:00:00"  # DateTime
    return encode(pixels(seed), "JPEG", quality=85, exif=exif.tobytes())


def exiftool_xmp(path: Path, source_type: str) -> None:
    subprocess.run(["exiftool", "-q", "-overwrite_original",
                    f"-XMP-iptcExt:DigitalSourceType={IPTC}{source_type}",
                    "-XMP-photoshop:Credit=Made with SampleGen AI", "--", str(path)], check=True)


# ---------------------------------------------------------------- the show

# relative path under sample_assets/ → (expected classification, format, note)
EXPECTED: dict[str, tuple[str, str, str]] = {}


def put(rel: str, data: bytes, cls: str, fmt: str, note: str) -> Path:
    path = OUT / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    EXPECTED[rel] = (cls, fmt, note)
    return path


def build(identity: SigningIdentity, tmp: Path) -> None:
    w = "show/working"
    put(f"{w}/generated/c2pa_generated.jpg",
        ai_generated(identity, "c2pa_generated.jpg", "image/jpeg",
                     encode(pixels(1), "JPEG", quality=85)),
        "ai_generated", "jpeg", "C2PA c2pa.created trainedAlgorithmicMedia")
    put(f"{w}/generated/c2pa_generated.png",
        ai_generated(identity, "c2pa_generated.png", "image/png", encode(pixels(2), "PNG")),
        "ai_generated", "png", "C2PA c2pa.created trainedAlgorithmicMedia")
    xmp = put(f"{w}/generated/xmp_generated.jpg", encode(pixels(3), "JPEG", quality=85),
              "ai_generated", "jpeg", "XMP-iptcExt:DigitalSourceType trainedAlgorithmicMedia")
    exiftool_xmp(xmp, "trainedAlgorithmicMedia")
    put(f"{w}/generated/a1111.png", a1111_png(), "ai_generated", "png",
        "PNG tEXt parameters (AUTOMATIC1111 infotext)")
    put(f"{w}/generated/comfyui.png", comfyui_png(), "ai_generated", "png",
        "PNG tEXt prompt + workflow (ComfyUI)")

    mp4, wav = tmp / "clip.mp4", tmp / "clip.wav"
    make_mp4(mp4)
    make_wav(wav)
    put(f"{w}/generated/c2pa_generated.mp4",
        ai_generated(identity, "c2pa_generated.mp4", "video/mp4", mp4.read_bytes()),
        "ai_generated", "mp4", "C2PA in MP4 uuid box, c2pa.created trainedAlgorithmicMedia")
    put(f"{w}/generated/c2pa_generated.wav",
        ai_generated(identity, "c2pa_generated.wav", "audio/wav", wav.read_bytes()),
        "ai_generated", "wav", "C2PA in RIFF C2PA chunk, c2pa.created trainedAlgorithmicMedia")

    put(f"{w}/plates/camera.jpg", camera_jpeg(10), "not_ai", "jpeg",
        "EXIF Make/Model only, no C2PA, no AI tag")
    put(f"{w}/plates/c2pa_capture.jpg",
        sign(identity, created("c2pa_capture.jpg", "digitalCapture", "SampleCam", "capture"),
             "image/jpeg", encode(pixels(11), "JPEG", quality=85)),
        "not_ai", "jpeg", "C2PA c2pa.created digitalCapture (trusted with the sample CA)")
    exr = tmp / "plate.exr"
    make_still(exr, "exr")
    put(f"{w}/plates/plate.exr", exr.read_bytes(), "unknown", "exr",
        "EXR: nothing can embed; no marker")

    f = "show/final"
    put(f"{f}/shot010_comp.jpg", ai_edited_via_ingredient(identity), "ai_edited", "jpeg",
        "VIOLATION: C2PA opened+placed; AI claim only in the componentOf ingredient manifest")
    put(f"{f}/poster_generated.png",
        ai_generated(identity, "poster_generated.png", "image/png", encode(pixels(4), "PNG")),
        "ai_generated", "png", "VIOLATION: C2PA AI-generated image in final deliverables")
    put(f"{f}/shot020_camera.jpg", camera_jpeg(12), "not_ai", "jpeg",
        "EXIF Make/Model only (clean)")
    dpx = tmp / "shot030.dpx"
    make_still(dpx, "dpx")
    put(f"{f}/shot030_plate.dpx", dpx.read_bytes(), "unknown", "dpx",
        "DPX: nothing can embed; no marker")


def write_expected() -> None:
    lines = ["path\tclassification\tformat\tnote"]
    lines += [f"{rel}\t{cls}\t{fmt}\t{note}" for rel, (cls, fmt, note) in sorted(EXPECTED.items())]
    (OUT / "expected.tsv").write_text("\n".join(lines) + "\n")


def write_config() -> None:
    """The show's provenance.toml: `provenance init`'s template, trusting the TEST CA."""
    from importlib.resources import files

    template = files("provenance").joinpath("data/provenance.toml.template").read_text()
    marker = "anchors = []"
    if marker not in template:
        raise SystemExit("provenance.toml template changed: update write_config()")
    trusted = 'anchors = ["../test-signing-identity/ca.pem"]  # TEST ONLY: sample CA'
    example = '# [[tools]]\n# name = "Adobe Firefly*"\n# trains_on_inputs = false\n# enterprise = true\n'
    if example not in template:
        raise SystemExit("provenance.toml template changed: update write_config()")
    vetted = ("# The sample show has vetted its (fictional) SampleGen; ComfyUI and Stable Diffusion\n"
              "# samples stay unvetted so the daemon shows that warning too.\n"
              '[[tools]]\nname = "SampleGen*"\ntrains_on_inputs = false\nenterprise = true\n')
    text = template.replace(marker, trusted, 1).replace(example, vetted, 1)
    (SHOW / "provenance.toml").write_text(text)


def load_identity(new: bool) -> SigningIdentity:
    if new or SigningIdentity.in_dir(IDENTITY_DIR) is None:
        # Long validity: without a timestamp the samples turn "expired" when the leaf does.
        # TEST ONLY: its CA key is committed beside it on purpose (never do this for a show).
        identity = create_identity(IDENTITY_DIR, "Provenance TEST ONLY", ca_key_path=IDENTITY_DIR / "ca.key",
                                   leaf_days=36500, ca_days=36500, overwrite=True)
        (IDENTITY_DIR / "README.md").write_text(IDENTITY_README)
        return identity
    found = SigningIdentity.in_dir(IDENTITY_DIR)
    assert found is not None
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--new-identity", action="store_true",
                        help="replace the committed TEST-ONLY signing chain")
    args = parser.parse_args()
    for tool in ("exiftool", "ffmpeg"):
        if shutil.which(tool) is None:
            print(f"error: {tool} is not on PATH", file=sys.stderr)
            return 2
    identity = load_identity(args.new_identity)
    for sub in ("working", "final"):
        shutil.rmtree(SHOW / sub, ignore_errors=True)
    with tempfile.TemporaryDirectory() as tmp:
        build(identity, Path(tmp))
    write_expected()
    write_config()
    write_trust()
    total = sum(p.stat().st_size for p in SHOW.rglob("*") if p.is_file())
    print(f"wrote {len(EXPECTED)} assets under {SHOW.relative_to(REPO)} ({total:,} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
