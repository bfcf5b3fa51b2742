"""Metadata reader: ExifTool (one long-lived `-stay_open` process) → Evidence.

Reads XMP (IPTC DigitalSourceType, credit lines, our `XMP-provenance:*` declaration), EXIF
(UserComment, Software, Make/Model, ImageDescription), PNG text chunks, QuickTime Keys and
ID3 through the shared ExifTool process, and judges every tag at once (`tags.interpret`).
C2PA that ExifTool decodes is ignored here: the c2pa reader owns manifests.

Fast path: a JPEG or PNG whose container headers hold no metadata block at all, or small
plain text with no markup, is not handed to ExifTool (`_headers.may_hold_metadata`): the
ExifTool round trip is most of the cost on small files.
"""

from __future__ import annotations

from provenance.evidence import ReaderOutput, ReaderSettings, _exiftool
from provenance.evidence._headers import may_hold_metadata
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
        return not self._fast_path or may_hold_metadata(asset.path, asset.format)

    def read(self, asset: Asset) -> ReaderOutput:
        out = ReaderOutput()
        if not self.has_work(asset):
            return out
        try:
            tags = self._process().read(asset.path, self._settings.time_limit_s)
        except _exiftool.ExifToolFailure as exc:
            out.errors.append(exc.reason)
            return out
        except OSError as exc:
            out.errors.append(f"cannot read: {exc.strerror or exc}")
            return out
        found = interpret(tags, self._table)
        out.evidence, out.errors, out.declarations = found.evidence, found.errors, found.declarations
        return out
