"""Fixtures for the evidence area: real images, real ExifTool writes, real C2PA signing."""

from __future__ import annotations

import io
import json
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import c2pa
import pytest
from PIL import Image
from PIL.PngImagePlugin import PngInfo

from provenance.evidence import ReaderSettings
from provenance.evidence._exiftool import CONFIG_FILE
from provenance.identity import SigningIdentity
from provenance.pipeline import Inspector

IPTC = "http://cv.iptc.org/newscodes/digitalsourcetype/"
# verify_after_sign off: real writers (Bing, Premiere) sign c2pa.created without a DST,
# which c2pa-rs 0.91 refuses to verify; we need such files as fixtures.
NO_THUMBNAIL = {"builder": {"thumbnail": {"enabled": False}}, "verify": {"verify_after_sign": False}}


def make_jpeg(path: Path, color: tuple[int, int, int] = (200, 30, 30)) -> Path:
    Image.new("RGB", (32, 24), color).save(path, "JPEG")
    return path


def make_png(path: Path, text: dict[str, str] | None = None) -> Path:
    info = PngInfo()
    for key, value in (text or {}).items():
        info.add_text(key, value)
    Image.new("RGB", (32, 24), (10, 120, 200)).save(path, "PNG", pnginfo=info)
    return path


def exiftool_write(path: Path, *assignments: str) -> Path:
    """Write tags with the real ExifTool (our config loaded, so XMP-provenance is writable)."""
    subprocess.run(["exiftool", "-config", str(CONFIG_FILE), "-overwrite_original", "-q",
                    *assignments, str(path)], check=True, capture_output=True)
    return path


def created_action(dst: str | None, agent: str = "ExampleGen", **extra: Any) -> dict[str, Any]:
    act: dict[str, Any] = {"action": "c2pa.created", "softwareAgent": {"name": agent, "version": "2"}}
    if dst:
        act["digitalSourceType"] = dst
    act.update(extra)
    return act


def manifest(*actions: dict[str, Any], assertions: list[dict[str, Any]] | None = None,
             label: str = "c2pa.actions.v2") -> dict[str, Any]:
    return {
        "claim_generator_info": [{"name": "provenance-tests", "version": "0.1"}],
        "title": "fixture",
        "assertions": [{"label": label, "data": {"actions": list(actions)}},
                       *(assertions or [])],
    }


Sign = Callable[..., Path]


@pytest.fixture(scope="session")
def c2pa_signer(signing_identity: SigningIdentity) -> Iterator[c2pa.Signer]:
    info = c2pa.C2paSignerInfo(alg=c2pa.C2paSigningAlg.ES256, sign_cert=signing_identity.chain_pem(),
                               private_key=signing_identity.key_pem(), ta_url=None)
    signer = c2pa.Signer.from_info(info)
    yield signer


@pytest.fixture(scope="session")
def sign(c2pa_signer: c2pa.Signer) -> Sign:
    """sign(src, dst, manifest_dict, mime, ingredients=[(json, mime, path)], intent=None,
    no_embed=False, remote_url=None) → dst (or the .c2pa bytes written beside it)."""

    def _sign(src: Path, dst: Path, definition: dict[str, Any], mime: str, *,
              ingredients: list[tuple[dict[str, Any], str, Path]] = (),  # type: ignore[assignment]
              intent: Any = None, no_embed: bool = False, remote_url: str | None = None) -> Path:
        ctx = c2pa.Context.from_dict(NO_THUMBNAIL)
        with c2pa.Builder(definition, context=ctx) as builder:
            if intent is not None:
                builder.set_intent(intent)
            for ing_json, ing_mime, ing_path in ingredients:
                with open(ing_path, "rb") as fh:
                    builder.add_ingredient(ing_json, ing_mime, fh)
            if no_embed:
                builder.set_no_embed()
            if remote_url:
                builder.set_remote_url(remote_url)
            with open(src, "rb") as fin, open(dst, "w+b") as fout:
                data = builder.sign(c2pa_signer, mime, fin, fout)
        if no_embed:
            dst.with_name(dst.name + ".c2pa").write_bytes(bytes(data))
        return dst

    return _sign


@pytest.fixture(scope="session")
def trusted_settings(signing_identity: SigningIdentity) -> ReaderSettings:
    assert signing_identity.ca_path is not None
    return ReaderSettings(trust_anchors_pem=signing_identity.ca_path.read_text())


@pytest.fixture(scope="module")
def inspector() -> Iterator[Inspector]:
    with Inspector() as ins:
        yield ins


def verdict_json(v: Any) -> str:
    return json.dumps(v.to_dict(), indent=1)[:3000]


__all__ = ["IPTC", "created_action", "exiftool_write", "io", "make_jpeg", "make_png", "manifest"]
