"""Sidecar reader: `<file>.xmp` (preferred, e.g. `plate.exr.xmp`) or `<stem>.xmp` beside the asset.

Formats nothing can embed into (MXF, DPX, EXR) carry their tags in a sidecar. The sidecar is
read by the same ExifTool process and judged by the same rules as embedded tags, with one
difference: it is not part of the asset's bytes, so it is bound to them by
`XMP-provenance:ContentHash` ("sha256:<hex>").

- hash matches → its facts count like embedded tags;
- hash differs → STALE evidence, and its AI/capture/declaration facts are reported as INFO
  only: it described other bytes (DESIGN: "a stale one is reported, not trusted"). But a
  stale sidecar that claims AI is evidence of derivation, never silence: the file is most
  likely what the AI asset became (one re-rendered frame of an approved AI EXR sequence),
  so it is a *possible derivative* of what the sidecar described, with the AI signal (it
  blocks in final/ until these bytes are approved or re-tagged). A stale capture claim
  proves nothing, so it stays INFO;
- no hash (e.g. written by Lightroom or a DIT tool) → its AI claims count (missing an AI
  asset is worse than a review), but a capture claim from an unbound sidecar does not: anyone
  can drop a "camera" sidecar beside a generated file.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

from provenance import sidecars
from provenance.evidence import ReaderOutput, ReaderSettings, _exiftool
from provenance.evidence.signatures import SignatureTable
from provenance.evidence.tags import interpret
from provenance.model import Asset, Evidence, Signal

SOURCE = "sidecar"


def sidecar_path(path: Path) -> Path | None:
    # Strings, not pathlib: this runs for every file the pipeline sees.
    for candidate in sidecars.candidates(path, sidecars.XMP):
        if os.path.isfile(candidate):  # a FIFO named like a sidecar is none (and never opened)
            return Path(candidate)
    return None


def _demote(e: Evidence, why: str) -> Evidence:
    return dataclasses.replace(e, signal=Signal.INFO, field=f"{e.field} ({why})")


def _possible_derivative(side: Path, recorded: str, claims: list[Evidence]) -> Evidence | None:
    """The AI evidence a stale sidecar's AI claim becomes: a possible derivative, naming it."""
    ai = [e for e in claims if e.signal in (Signal.AI_GENERATED, Signal.AI_EDITED)]
    if not ai:
        return None
    signal = Signal.AI_GENERATED if any(e.signal is Signal.AI_GENERATED for e in ai) else Signal.AI_EDITED
    generator = next((e.generator for e in ai if e.generator), None)
    return Evidence(SOURCE, "possibly_derived_from",
                    f"possibly derived from what {side} described (sha256 {recorded}, {signal}): the "
                    f"sidecar's content hash no longer matches these bytes (re-rendered or edited since it "
                    f"was tagged). An approval of those bytes does not cover these: approve these bytes, "
                    f"or tag them again", signal, generator=generator)


class SidecarReader:
    name = "sidecar"

    def __init__(self, settings: ReaderSettings) -> None:
        self._settings = settings
        self._table = SignatureTable(settings.extra_signatures)
        self._exiftool: _exiftool.ExifToolProcess | None = None

    def close(self) -> None:
        if self._exiftool is not None:
            self._exiftool.close()
            self._exiftool = None

    def has_work(self, asset: Asset) -> bool:
        return sidecar_path(asset.path) is not None

    def read(self, asset: Asset) -> ReaderOutput:
        out = ReaderOutput()
        side = sidecar_path(asset.path)
        if side is None:
            return out
        if self._exiftool is None:
            self._exiftool = _exiftool.ExifToolProcess()
        try:
            tags = self._exiftool.read(side, self._settings.time_limit_s)
        except _exiftool.ExifToolFailure as exc:
            out.errors.append(f"sidecar {side.name}: {exc.reason}")
            return out
        found = interpret(tags, self._table, source=SOURCE)
        out.errors = [f"sidecar {side.name}: {e}" for e in found.errors]
        out.evidence.append(Evidence(SOURCE, "path", str(side)))
        recorded = (found.content_hash or "").strip().lower().removeprefix("sha256:")
        if recorded and recorded != asset.sha256:
            out.evidence.append(Evidence(
                SOURCE, "XMP-provenance:ContentHash",
                f"{side.name} describes sha256:{recorded}, but the file is sha256:{asset.sha256}",
                Signal.STALE))
            out.evidence.extend(_demote(e, "stale, not trusted") if e.signal is not Signal.INFO
                                else e for e in found.evidence)
            derived = _possible_derivative(side, recorded, found.evidence)
            if derived is not None:
                out.evidence.append(derived)
            return out  # its declarations described other bytes, too
        if not recorded:
            out.evidence.extend(_demote(e, "unbound sidecar, not trusted")
                                if e.signal is Signal.CAPTURE else e for e in found.evidence)
        else:
            out.evidence.extend(found.evidence)
        out.declarations = found.declarations
        return out
