"""Evidence readers: each turns one file into typed Evidence, and knows nothing of policy.

A reader satisfies `EvidenceReader`. Readers are looked up by name in
`provenance.evidence.registry`; the core never imports one directly. A reader that
fails on a file reports it in `ReaderOutput.errors` (naming the reason) instead of
raising, so one bad file or one broken reader never hides the others' evidence.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from provenance.model import Asset, C2paSummary, Declarations, Evidence


@dataclass
class ReaderOutput:
    evidence: list[Evidence] = field(default_factory=list)
    c2pa: C2paSummary | None = None
    declarations: Declarations | None = None
    errors: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ReaderSettings:
    """What readers may be configured with (built from provenance.toml by `config`)."""

    trust_anchors_pem: str | None = None  # extra C2PA trust anchors (our signing CA, studio CAs)
    extra_signatures: tuple[dict[str, str], ...] = ()  # production-specific generator signatures
    time_limit_s: float = 60.0  # per file, per reader


class EvidenceReader(Protocol):
    name: str

    def read(self, asset: Asset) -> ReaderOutput:
        """Read one identified file. Must not raise for problems with the file itself."""
        ...

    # Optional: `has_work(asset) -> bool`, a cheap check (no long-lived resources, at most a
    # header read) that answers False when `read` would certainly find nothing; the pipeline
    # then skips the reader's thread hand-off for that file. Readers without it always run.

    def close(self) -> None:
        """Release long-lived resources (the ExifTool process, ...)."""
        ...


def readers_digest(settings: ReaderSettings, readers: Sequence[str] | None = None) -> str:
    """Digest of everything besides a file's bytes that decides the readers' answer: key any
    cache of verdicts on it (see `provenance.evidence.digest`)."""
    from provenance.evidence.digest import readers_digest as digest  # lazy: no subprocess at import

    return digest(settings, readers)
