"""Metadata reader: ExifTool (one long-lived `-stay_open` process) → Evidence.

Reads XMP (IPTC DigitalSourceType, credit lines, our `XMP-provenance:*` declaration), EXIF
(UserComment, Software, Make/Model, ImageDescription), PNG text chunks, QuickTime Keys and
ID3 through the shared ExifTool process, and judges every tag at once (`tags.interpret`).
C2PA that ExifTool decodes is ignored here: the c2pa reader owns manifests.

Bounded: a PNG whose compressed chunks inflate past a limit is refused before ExifTool
(`_inflation`), and the ExifTool process is killed past its memory or output limit
(`_exiftool`); either way the file carries the reason as an error (the gate: undecided).

Fast path: a JPEG or PNG whose container headers hold no metadata block at all, small
plain text with no markup, or a binary ExifTool itself cannot type (its answer would be
"Unknown file type" and nothing else) is not handed to ExifTool
(`_headers.may_hold_metadata`): the ExifTool round trip is most of the cost on small files,
and 1-3 ms of Perl per file on a binary it only fails to type.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from provenance.evidence import ReaderOutput, ReaderSettings, _exiftool
from provenance.evidence._headers import may_hold_metadata
from provenance.evidence._inflation import inflation_problem
from provenance.evidence.signatures import SignatureTable
from provenance.evidence.tags import interpret
from provenance.model import Asset


class MetadataReader:
    name = "metadata"

    def __init__(self, settings: ReaderSettings, *, fast_path: bool = True) -> None:
        self._settings = settings
        self._table = SignatureTable(settings.extra_signatures)
        self._fast_path = fast_path
        self._exiftool: _exiftool.ExifToolProcess | None = None

    def _process(self) -> _exiftool.ExifToolProcess:
        if self._exiftool is None:  # started on first use: `--help` never spawns Perl
            self._exiftool = _exiftool.ExifToolProcess()
        return self._exiftool

    def close(self) -> None:
        if self._exiftool is not None:
            self._exiftool.close()
            self._exiftool = None

    def has_work(self, asset: Asset) -> bool:
        if asset.size == 0:
            return False  # 0 bytes hold no metadata (ExifTool would only say "File is empty")
        return not self._fast_path or may_hold_metadata(asset.path, asset.format, asset.whole)

    def read(self, asset: Asset) -> ReaderOutput:
        if not self.has_work(asset):
            return ReaderOutput()
        problem = inflation_problem(asset.path, asset.format)
        if problem is not None:
            return ReaderOutput(errors=[problem])
        try:
            tags = self._process().read(asset.path, self._settings.time_limit_s)
        except _exiftool.ExifToolFailure as exc:
            return ReaderOutput(errors=[exc.reason])
        except OSError as exc:
            return ReaderOutput(errors=[f"cannot read: {exc.strerror or exc}"])
        return self._judge(tags)

    def read_many(self, assets: Sequence[Asset]) -> list[ReaderOutput] | None:
        """One ExifTool call for the batch; None if the batch as a whole failed (the caller
        then reads each file alone, so only the file at fault carries the error)."""
        refused = {i: p for i, a in enumerate(assets)
                   if (p := inflation_problem(a.path, a.format)) is not None}
        asked = [a for i, a in enumerate(assets) if i not in refused]
        try:
            found = iter(self._process().read_many([a.path for a in asked],
                                                   self._settings.time_limit_s) if asked else ())
        except (_exiftool.ExifToolFailure, OSError):
            return None
        out: list[ReaderOutput] = []
        for i, asset in enumerate(assets):
            if i in refused:
                out.append(ReaderOutput(errors=[refused[i]]))
                continue
            tags = next(found)
            out.append(self.read(asset) if tags is None else self._judge(tags))
        return out

    def _judge(self, tags: dict[str, Any]) -> ReaderOutput:
        found = interpret(tags, self._table)
        return ReaderOutput(evidence=found.evidence, errors=found.errors, declarations=found.declarations)
