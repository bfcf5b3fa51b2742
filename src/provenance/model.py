"""The values every stage passes along: plain frozen dataclasses, no I/O.

identify → Asset; evidence readers → Evidence; classify → Verdict; policy → Finding.
Field names and string values here are a public contract (JSON output, the ledger,
scripts), so change them only with a schema version bump. Every `to_dict` has a `from_dict`
beside it, and `from_dict(to_dict(v)) == v` for every value (tests/core/test_model.py builds
fully populated values to check it): a cache or a record read back is the value written.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any


class Classification(StrEnum):
    AI_GENERATED = "ai_generated"
    AI_EDITED = "ai_edited"
    NOT_AI = "not_ai"
    UNKNOWN = "unknown"

    @property
    def is_ai(self) -> bool:
        return self in (Classification.AI_GENERATED, Classification.AI_EDITED)


class Signal(StrEnum):
    """What one piece of evidence says about the asset's origin."""

    AI_GENERATED = "ai_generated"  # made by a generative model
    AI_EDITED = "ai_edited"  # AI action inside otherwise captured/human media
    CAPTURE = "capture"  # positive provenance of capture or human authorship
    DECLARATION = "declaration"  # a tagged tool/purpose/risk declaration
    REMOTE = "remote"  # provenance exists somewhere we cannot see
    STALE = "stale"  # a sidecar whose recorded hash no longer matches
    INFO = "info"  # context only; never decides a class


class Zone(StrEnum):
    WORKING = "working"
    FINAL = "final"
    IGNORE = "ignore"


class Scope(StrEnum):
    """What an approval may clear (Netflix's categories needing written approval)."""

    FINAL_DELIVERABLE = "final-deliverable"
    TALENT_LIKENESS = "talent-likeness"
    PERSONAL_DATA = "personal-data"
    THIRD_PARTY_IP = "third-party-ip"


class Risk(StrEnum):
    """Risks an artist declares when tagging; each needs a matching approval scope."""

    TALENT_LIKENESS = "talent-likeness"
    PERFORMANCE = "performance"
    PERSONAL_DATA = "personal-data"
    THIRD_PARTY_IP = "third-party-ip"


RISK_SCOPE: dict[Risk, Scope] = {
    Risk.TALENT_LIKENESS: Scope.TALENT_LIKENESS,
    Risk.PERFORMANCE: Scope.TALENT_LIKENESS,  # a performance needs the performer's consent
    Risk.PERSONAL_DATA: Scope.PERSONAL_DATA,
    Risk.THIRD_PARTY_IP: Scope.THIRD_PARTY_IP,
}


@dataclass(frozen=True)
class Asset:
    """A regular file as found on disk, identified by content."""

    path: Path
    format: str  # short lowercase name sniffed from content: jpeg, png, mp4, exr, ... or "unknown"
    size: int
    dev: int
    inode: int
    mtime_ns: int
    ctime_ns: int
    sha256: str
    link_target: Path | None = None  # set when `path` is a symlink; bytes are the target's
    # The first bytes as read while hashing (up to identify.PREFIX_BYTES; the whole file when
    # shorter): readers' header checks look here instead of opening the file again.
    prefix: bytes = field(default=b"", repr=False, compare=False)

    @property
    def whole(self) -> bytes | None:
        """All of the file's bytes as hashed, when `prefix` holds all of them."""
        return self.prefix if len(self.prefix) == self.size else None

    @property
    def stat_key(self) -> tuple[int, int, int, int, int]:
        """Unchanged key ⇒ unchanged bytes (the cache contract used by ledger and gate)."""
        return (self.dev, self.inode, self.size, self.mtime_ns, self.ctime_ns)


@dataclass(frozen=True)
class Evidence:
    """One fact a reader found. `source` is the reader or container (c2pa, xmp, exif, png, ...)."""

    source: str
    field: str
    value: str
    signal: Signal = Signal.INFO
    generator: str | None = None  # a known tool's name, when this evidence names one
    manifest: str | None = None  # C2PA manifest label the fact came from

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"source": self.source, "field": self.field, "value": self.value,
                               "signal": str(self.signal)}
        if self.generator is not None:
            out["generator"] = self.generator
        if self.manifest is not None:
            out["manifest"] = self.manifest
        return out

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Evidence:
        return cls(source=d["source"], field=d["field"], value=d["value"], signal=Signal(d["signal"]),
                   generator=d.get("generator"), manifest=d.get("manifest"))


@dataclass(frozen=True)
class ManifestInfo:
    """One C2PA manifest in a store, summarised."""

    label: str
    active: bool
    claim_generator: str | None = None
    issuer: str | None = None
    common_name: str | None = None
    signed_at: str | None = None
    actions: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"label": self.label, "active": self.active, "claim_generator": self.claim_generator,
                "issuer": self.issuer, "common_name": self.common_name, "signed_at": self.signed_at,
                "actions": list(self.actions)}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ManifestInfo:
        return cls(label=d["label"], active=d["active"], claim_generator=d.get("claim_generator"),
                   issuer=d.get("issuer"), common_name=d.get("common_name"), signed_at=d.get("signed_at"),
                   actions=tuple(d.get("actions", ())))


@dataclass(frozen=True)
class C2paSummary:
    """C2PA state, with integrity (were the bytes changed?) apart from trust (who signed?)."""

    present: bool = False
    integrity: str | None = None  # "ok" | "tampered" | None when absent
    trust: str | None = None  # "trusted" | "untrusted" | "expired" | "invalid" | None
    manifests: tuple[ManifestInfo, ...] = ()
    codes: tuple[str, ...] = ()  # validation failure codes, as c2pa-rs reports them
    remote_url: str | None = None  # a remote manifest we did not fetch
    sidecar: str | None = None  # path of a .c2pa sidecar the store came from

    def to_dict(self) -> dict[str, Any]:
        return {
            "present": self.present,
            "integrity": self.integrity,
            "trust": self.trust,
            "manifests": [m.to_dict() for m in self.manifests],
            "codes": list(self.codes),
            "remote_url": self.remote_url,
            "sidecar": self.sidecar,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> C2paSummary:
        return cls(present=d["present"], integrity=d.get("integrity"), trust=d.get("trust"),
                   manifests=tuple(ManifestInfo.from_dict(m) for m in d.get("manifests", ())),
                   codes=tuple(d.get("codes", ())), remote_url=d.get("remote_url"), sidecar=d.get("sidecar"))


@dataclass(frozen=True)
class Declarations:
    """What a tag declared: the tool, its purpose and the risks (from XMP, C2PA or a sidecar)."""

    tool: str | None = None
    tool_version: str | None = None
    purpose: str | None = None
    risks: frozenset[Risk] = frozenset()

    def merged(self, other: Declarations) -> Declarations:
        return Declarations(
            tool=self.tool or other.tool,
            tool_version=self.tool_version or other.tool_version,
            purpose=self.purpose or other.purpose,
            risks=self.risks | other.risks,
        )

    def to_dict(self) -> dict[str, Any]:
        return {"tool": self.tool, "tool_version": self.tool_version, "purpose": self.purpose,
                "risks": sorted(str(r) for r in self.risks)}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Declarations:
        return cls(tool=d.get("tool"), tool_version=d.get("tool_version"), purpose=d.get("purpose"),
                   risks=frozenset(Risk(r) for r in d.get("risks") or ()))


@dataclass(frozen=True)
class Recollection:
    """One thing a verdict knows from memory rather than from the file itself, said in words
    every output shows: "the ledger remembers these bytes as ai_edited (tagged at …)"."""

    source: str  # which memory: "ledger" (these exact bytes); other kinds name themselves
    statement: str

    def to_dict(self) -> dict[str, Any]:
        return {"source": self.source, "statement": self.statement}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Recollection:
        return cls(source=d["source"], statement=d["statement"])


@dataclass(frozen=True)
class Remembered:
    """What a memory holds about one file from evidence seen elsewhere (its tags, its sidecar,
    its C2PA): AI evidence, declared tool/purpose/risks, and how to say so. A copy of those
    bytes that lost its tag or sidecar is still judged with it."""

    evidence: tuple[Evidence, ...] = ()
    declarations: Declarations = field(default_factory=Declarations)
    recollections: tuple[Recollection, ...] = ()

    @property
    def empty(self) -> bool:
        return not (self.evidence or self.recollections or self.declarations != Declarations())


@dataclass(frozen=True)
class Verdict:
    """Everything `inspect` knows about one file. `errors` non-empty means it could not be read."""

    path: str
    sha256: str | None
    format: str
    size: int | None
    classification: Classification
    evidence: tuple[Evidence, ...] = ()
    c2pa: C2paSummary = field(default_factory=C2paSummary)
    declarations: Declarations = field(default_factory=Declarations)
    errors: tuple[str, ...] = ()
    generator: str | None = None  # the generator or tool the evidence names, if any
    link_target: str | None = None
    # What of this verdict comes from memory, not from the file (empty: the file alone).
    recollections: tuple[Recollection, ...] = ()

    @property
    def tampered(self) -> bool:
        return self.c2pa.integrity == "tampered"

    @property
    def readable(self) -> bool:
        return not self.errors

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "sha256": self.sha256,
            "format": self.format,
            "size": self.size,
            "classification": str(self.classification),
            "tampered": self.tampered,
            "generator": self.generator,
            "declarations": self.declarations.to_dict(),
            "evidence": [e.to_dict() for e in self.evidence],
            "c2pa": self.c2pa.to_dict(),
            "errors": list(self.errors),
            "link_target": self.link_target,
            "memory": [r.to_dict() for r in self.recollections],
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Verdict:
        """The inverse of `to_dict` (`tampered` is derived, so it is not read back)."""
        return cls(
            path=d["path"], sha256=d["sha256"], format=d["format"], size=d["size"],
            classification=Classification(d["classification"]),
            evidence=tuple(Evidence.from_dict(e) for e in d.get("evidence", ())),
            c2pa=C2paSummary.from_dict(d["c2pa"]), declarations=Declarations.from_dict(d["declarations"]),
            errors=tuple(d.get("errors", ())), generator=d.get("generator"), link_target=d.get("link_target"),
            recollections=tuple(Recollection.from_dict(r) for r in d.get("memory", ())),
        )


@dataclass(frozen=True)
class Finding:
    """A rule broken by one asset: which principle, why, and what would clear it."""

    rule: str  # e.g. "temporary-material"
    principle: str  # the guideline it protects, in words
    path: str
    sha256: str | None
    classification: Classification
    message: str
    clears_with: tuple[Scope, ...] = ()  # approval scopes that clear it; empty = nothing can
    blocking: bool = True

    @property
    def key(self) -> str:
        """Identity for de-duplication: the same rule on the same bytes is one finding."""
        return f"{self.rule}:{self.sha256}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "principle": self.principle,
            "path": self.path,
            "sha256": self.sha256,
            "classification": str(self.classification),
            "message": self.message,
            "clears_with": [str(s) for s in self.clears_with],
            "blocking": self.blocking,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Finding:
        return cls(rule=d["rule"], principle=d["principle"], path=d["path"], sha256=d["sha256"],
                   classification=Classification(d["classification"]), message=d["message"],
                   clears_with=tuple(Scope(s) for s in d.get("clears_with", ())), blocking=d["blocking"])
