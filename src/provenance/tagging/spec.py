"""What a tag says (`TagSpec`) and what happened to one file (`TagResult`). No I/O.

The field names follow docs/architecture.md "Our own marks": the same declaration is
written as XMP, as a C2PA assertion and into sidecars, so every reader agrees.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from provenance import __version__
from provenance.errors import TagError
from provenance.model import Classification, Risk
from provenance.vocabulary import (
    COMPOSITE_TYPE,
    GENERATED_TYPE,
    IPTC_AI_PROMPT,
    IPTC_AI_PROMPT_WRITER,
    IPTC_AI_SYSTEM,
    IPTC_AI_SYSTEM_VERSION,
    IPTC_DST,
    XMP_DST_TAG,
    XMP_NS,
)
from provenance.vocabulary import DECLARATION_LABEL as DECLARATION_LABEL  # re-exported

IPTC = IPTC_DST  # names kept for importers; the values live in provenance.vocabulary
TOOL_NAME = "provenance"
TOOL_VERSION = __version__


class EmbedRefused(TagError):
    """ExifTool or c2pa would not write this file; a sidecar can still carry the tag."""


class Kind(StrEnum):
    GENERATED = "generated"
    EDITED = "edited"

    @property
    def classification(self) -> Classification:
        return (Classification.AI_GENERATED if self is Kind.GENERATED
                else Classification.AI_EDITED)

    @property
    def source_type(self) -> str:
        return IPTC_DST + (GENERATED_TYPE if self is Kind.GENERATED else COMPOSITE_TYPE)


class Outcome(StrEnum):
    WRITTEN = "written"  # embedded in the file (XMP and/or C2PA)
    UNCHANGED = "unchanged"  # our identical declaration was already there
    SIDECAR = "sidecar"  # written to <file>.xmp; the file's bytes are untouched
    DRY_RUN = "dry-run"  # what would be written; nothing was
    REFUSED = "refused"  # the request would lower what the file's own evidence says; nothing written
    ERROR = "error"  # nothing changed; `reason` says why


def _clean(text: str | None) -> str:
    # One line of plain text: ExifTool's argument stream is line-based, and a control
    # character in a declaration is never intended.
    return " ".join("".join(" " if ord(c) < 32 or ord(c) == 127 else c
                            for c in (text or "")).split())


@dataclass(frozen=True)
class TagSpec:
    kind: Kind
    tool: str
    tool_version: str | None = None
    purpose: str | None = None
    risks: frozenset[Risk] = frozenset()
    prompt: str | None = None  # IPTC AIPromptInformation, only when given
    prompt_writer: str | None = None  # IPTC AIPromptWriterName, only when given

    @classmethod
    def make(cls, kind: Kind | str, tool: str, tool_version: str | None = None,
             purpose: str | None = None, risks: Iterable[Risk | str] = (),
             prompt: str | None = None, prompt_writer: str | None = None) -> TagSpec:
        tool = _clean(tool)
        if not tool:
            raise ValueError("a tool name is required")
        return cls(Kind(kind), tool, _clean(tool_version) or None, _clean(purpose) or None,
                   frozenset(Risk(r) for r in risks), _clean(prompt) or None,
                   _clean(prompt_writer) or None)

    @property
    def sorted_risks(self) -> list[str]:
        return sorted(str(r) for r in self.risks)

    def declaration(self) -> dict[str, Any]:
        """The C2PA `org.provenance-tool.declaration` assertion data (None values left out)."""
        tool: dict[str, str] = {"name": self.tool}
        if self.tool_version:
            tool["version"] = self.tool_version
        data: dict[str, Any] = {"classification": str(self.kind.classification), "tool": tool,
                                "risks": self.sorted_risks}
        if self.purpose:
            data["purpose"] = self.purpose
        return data

    def software_agent(self) -> dict[str, str]:
        agent = {"name": self.tool}
        if self.tool_version:
            agent["version"] = self.tool_version
        return agent

    def xmp_fields(self) -> dict[str, str | list[str] | None]:
        """Tag → value; None means "remove", so a re-tag never keeps a stale purpose.

        IPTC's own properties carry what IPTC has a field for (the source type, IPTC 2025.1's
        AI system and version, the prompt); our namespace only what it has none for (purpose,
        declared risks). A prompt is written only when given: a generator's own prompt in the
        file is context a re-tag must not erase."""
        fields: dict[str, str | list[str] | None] = {
            XMP_DST_TAG: self.kind.source_type,
            IPTC_AI_SYSTEM: self.tool,
            IPTC_AI_SYSTEM_VERSION: self.tool_version,
            f"{XMP_NS}:Purpose": self.purpose,
            f"{XMP_NS}:Risks": self.sorted_risks or None,
        }
        if self.prompt:
            fields[IPTC_AI_PROMPT] = self.prompt
        if self.prompt_writer:
            fields[IPTC_AI_PROMPT_WRITER] = self.prompt_writer
        return fields


@dataclass(frozen=True)
class TagResult:
    path: str
    outcome: Outcome
    written: tuple[str, ...] = ()  # "xmp", "c2pa", "sidecar" (what was, or would be, written)
    sha256_before: str | None = None
    sha256_after: str | None = None
    reason: str | None = None  # why: the error, or why a sidecar/unchanged
    sidecar: str | None = None
    checks: tuple[str, ...] = field(default=())  # what verification proved before the rename
    # What the tag replaced outside our own namespace ({"fields": {tag: old value or None},
    # "sidecar_existed": bool}), kept in the ledger's tag event so an untag can restore it.
    prior: dict[str, Any] | None = None

    @property
    def ok(self) -> bool:
        """Nothing went wrong reading or writing (a refusal is a decision, not a failure)."""
        return self.outcome is not Outcome.ERROR

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "outcome": str(self.outcome), "written": list(self.written),
                "sha256_before": self.sha256_before, "sha256_after": self.sha256_after,
                "reason": self.reason, "sidecar": self.sidecar, "checks": list(self.checks),
                "prior": self.prior}
