"""The `c2pa.soft-binding` assertion: our perceptual fingerprint in a C2PA manifest, so other
C2PA tools (and we, after the ledger row is gone) can recover what a stripped file was.

C2PA 2.2 §soft_binding_assertion (c2pa-rs `assertions/soft_binding.rs`): `alg` from the C2PA
soft-binding algorithm list, `blocks[{scope, value}]`, `pad`. We write `io.iscc.v0` (ISO 24138
ISCC, entry 3 of that list): each block's value is an ISCC unit, base64 — the 2-byte header of
a 256-bit Content-Code Image (MainType CONTENT, SubType IMAGE, v0, length 256: 0x21 0x07)
then the 32-byte code, which is ISCC's own image soft hash (tests check it bit for bit against
iscc-core) computed on the display-referred picture. A still has one block with an empty
scope; a video one block per sampled frame, scoped by its `timespan` in milliseconds.
Readers accept a unit anywhere in a block's value (an ISCC-SEQ, as iscc-sdk writes, holds
several units back to back) and skip what they do not understand.
"""

from __future__ import annotations

import base64
import binascii
import os
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the readers import this module: no numpy or PyAV until a fingerprint is made
    from provenance.fingerprint.model import Fingerprint

LABEL = "c2pa.soft-binding"
ALG = "io.iscc.v0"
IMAGE_256 = b"\x21\x07"  # ISCC header: CONTENT / IMAGE / V0 / 256 bits
_UNIT = len(IMAGE_256) + 32


def assertion(fp: Fingerprint) -> dict[str, Any] | None:
    """The assertion for a fingerprint's pictures, or None when it has none (audio, a flat
    picture)."""
    from provenance.fingerprint.model import Kind
    from provenance.fingerprint.video import INTERVAL

    blocks = []
    for frame in fp.frames:
        if not frame.hashes:
            continue
        scope: dict[str, Any] = {}
        if fp.kind is Kind.VIDEO:
            start = round(frame.t * 1000)
            scope = {"timespan": {"start": start, "end": start + round(INTERVAL * 1000)}}
        value = base64.b64encode(IMAGE_256 + frame.picture.to_bytes(32, "big")).decode("ascii")
        blocks.append({"scope": scope, "value": value})
    if not blocks:
        return None
    return {"label": LABEL, "data": {"alg": ALG, "blocks": blocks, "pad": [],
                                     "name": "ISCC Content-Code Image of the displayed picture"}}


def codes(data: Any) -> list[tuple[float, int]]:
    """(time in seconds, 256-bit picture code) of every ISCC image unit in one soft-binding
    assertion's data; [] for another algorithm or a malformed assertion (never an error:
    the assertion is the file's claim, read for memory, and anyone can write one)."""
    if not isinstance(data, dict) or data.get("alg") != ALG or not isinstance(data.get("blocks"), list):
        return []
    out = []
    for block in data["blocks"]:
        if not isinstance(block, dict):
            continue
        raw = _bytes(block.get("value"))
        scope = block.get("scope")
        span = scope.get("timespan") if isinstance(scope, dict) else None
        start = span.get("start") if isinstance(span, dict) else 0
        t = float(start) / 1000 if isinstance(start, int | float) and start >= 0 else 0.0
        for at in range(0, len(raw) - _UNIT + 1):
            if raw[at:at + 2] == IMAGE_256:
                out.append((t, int.from_bytes(raw[at + 2:at + _UNIT], "big")))
                break  # one picture code per block
    return out


def _bytes(value: Any) -> bytes:
    if isinstance(value, list) and all(isinstance(b, int) and 0 <= b < 256 for b in value):
        return bytes(value)  # a CBOR byte string as some JSON views show it
    if isinstance(value, str):
        try:
            return base64.b64decode(value, validate=False)
        except (binascii.Error, ValueError):
            return b""
    return b""


def in_store(store: dict[str, Any]) -> list[tuple[float, int]]:
    """Every picture code of every soft binding in a C2PA store (active manifest and
    ingredients alike: an ingredient's binding describes what the file was made from)."""
    found: list[tuple[float, int]] = []
    manifests = store.get("manifests")
    for manifest in manifests.values() if isinstance(manifests, dict) else ():
        for a in manifest.get("assertions") or () if isinstance(manifest, dict) else ():
            if isinstance(a, dict) and str(a.get("label", "")).split("__")[0] == LABEL:
                found.extend(codes(a.get("data")))
    return list(dict.fromkeys(found))


def encode_codes(items: Iterable[tuple[float, int]]) -> str:
    """The evidence text for soft-binding codes: `t:hex` pairs, space separated."""
    return " ".join(f"{t:g}:{code:064x}" for t, code in items)


def decode_codes(text: str) -> list[tuple[float, int]]:
    out = []
    for item in text.split():
        t, _, hexcode = item.partition(":")
        try:
            out.append((float(t), int(hexcode, 16)))
        except ValueError:
            continue
    return out


def for_file(path: str | os.PathLike[str]) -> dict[str, Any] | None:
    """The assertion for a file about to be signed, or None when it cannot be fingerprinted
    (a tag is never refused for want of a soft binding: the hard binding is what C2PA needs)."""
    from provenance.errors import AssetError
    from provenance.fingerprint import Fingerprint, FrameHash, Kind, fingerprint, kind_of, still
    from provenance.fingerprint.display import decode
    from provenance.identify import identify

    try:
        asset = identify(Path(path))
        kind = kind_of(asset.format)
        if kind is Kind.STILL:  # the picture only: crop variants are for the ledger's memory
            picture = decode(Path(path), asset.format)
            fp: Fingerprint | None = Fingerprint(asset.sha256 or "", Kind.STILL, picture.essence, frames=(
                FrameHash(0.0, tuple(still.hashes(picture.rgb, variants=False))),))
        elif kind is Kind.VIDEO:
            fp = fingerprint(Path(path), asset.format, asset.sha256 or "")
        else:
            return None
    except (AssetError, OSError):
        return None
    return assertion(fp) if fp is not None else None
