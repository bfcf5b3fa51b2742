"""What the gate decided, per asset and overall. Plain data: reports render it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property
from typing import TYPE_CHECKING, Any

from provenance.errors import EXIT_BLOCKED, EXIT_OK, EXIT_UNDECIDED
from provenance.model import Classification, Finding, Verdict
from provenance.policy import Judgement
from provenance.sequences import Framed, Sequence, frame_range
from provenance.wording import plural

if TYPE_CHECKING:
    from provenance.gate.edits import EditResult
    from provenance.gate.masters import MasterReport
    from provenance.imf.gating import PackageReport


class Status(StrEnum):
    CLEAR = "clear"
    WARNING = "warning"  # passes, with non-blocking findings (e.g. an unvetted tool)
    APPROVED = "approved"  # was blocked; valid approvals cleared every blocking finding
    BLOCKED = "blocked"
    UNDECIDED = "undecided"  # unreadable, tool error: could not decide

    @property
    def rank(self) -> int:
        return _RANK[self]


_RANK = {Status.CLEAR: 0, Status.WARNING: 1, Status.APPROVED: 2, Status.BLOCKED: 3, Status.UNDECIDED: 4}
_AI_RANK = {Classification.UNKNOWN: 0, Classification.NOT_AI: 1, Classification.AI_EDITED: 2,
            Classification.AI_GENERATED: 3}


def approval_summary(approval: Any) -> dict[str, Any]:
    """The fields of a VerifiedApproval a report shows (read by name: policy duck-types it)."""
    def text(name: str) -> Any:
        value: Any = getattr(approval, name, None)
        return value.isoformat() if hasattr(value, "isoformat") else value
    return {
        "approver": text("approver"), "email": text("email"),
        "scopes": sorted(str(s) for s in getattr(approval, "scopes", ())),
        "reference": text("reference"), "issued_at": text("issued_at"), "expires_at": text("expires_at"),
        "key_id": text("key_id"), "subject_sha256": text("subject_sha256"),
    }


@dataclass
class FileOutcome:
    """One file judged: its verdict, what policy found, what approvals did."""

    relpath: str
    verdict: Verdict
    judgement: Judgement
    rejections: list[str] = field(default_factory=list)  # approvals found but not valid, and why
    notes: list[str] = field(default_factory=list)  # e.g. a symlink pointing outside the package
    source: str | None = None  # the path on disk (for thumbnails); relpath is what reports show

    @cached_property  # a judged file does not change; reports ask many times
    def status(self) -> Status:
        j = self.judgement
        if j.undecided:
            return Status.UNDECIDED
        if j.blocking:
            return Status.BLOCKED
        if any(c.finding.blocking for c in j.cleared):
            return Status.APPROVED
        if j.open:
            return Status.WARNING
        return Status.CLEAR

    def reasons(self, memory: bool = True) -> list[str]:
        """Why it does not pass, and what would clear it (or that nothing but a fix can); with
        what of the verdict is memory unless `memory` is False."""
        out = []
        for f in self.judgement.open:
            if not f.blocking:
                continue
            clears = (" — clears with an approval with scope " + " or ".join(f"'{s}'" for s in f.clears_with)
                      if f.clears_with else "")
            out.append(f"{f.rule}: {f.message}{clears}")
        for r in self.rejections:
            out.append(f"approval rejected: {r}")
        if memory:
            out.extend(f"from memory: {s}" for s in self.memory)
        return out

    @property
    def memory(self) -> list[str]:
        """What of this verdict is memory, not the file itself (every output says so)."""
        return [r.statement for r in self.verdict.recollections]


@dataclass
class AssetResult(Framed):
    """One reported asset: a file, or an image sequence judged frame by frame."""

    name: str  # the file's relpath, or the sequence's name (`plates/plate.1001-1010#.exr`)
    files: list[FileOutcome]  # a sequence's in frame order
    sequence: Sequence | None = None
    sha256: str | None = None  # the file's sha256, or a manifest digest for a sequence

    @cached_property
    def status(self) -> Status:
        return max((f.status for f in self.files), key=lambda s: s.rank)

    @property
    def file_count(self) -> int:
        return len(self.files)

    @property
    def classification(self) -> Classification:
        return max((f.verdict.classification for f in self.files), key=lambda c: _AI_RANK[c])

    @property
    def format(self) -> str:
        return self.files[0].verdict.format

    @property
    def size(self) -> int:
        return sum(f.verdict.size or 0 for f in self.files)

    @property
    def first_blocking(self) -> FileOutcome | None:
        return next((f for f in self.files if f.status in (Status.BLOCKED, Status.UNDECIDED)), None)

    def _per_frame(self, texts: Callable[[FileOutcome], list[str]]) -> list[str]:
        """Each text once; for a sequence with the frames that said it, as a range with holes
        (`3 of 12 frames (1007-1009): …`), not once per frame."""
        if not self.is_sequence:
            return texts(self.files[0])
        by_text: dict[str, list[int]] = {}
        for f, frame in zip(self.files, self.frames, strict=True):
            for t in dict.fromkeys(texts(f)):
                by_text.setdefault(t, []).append(frame)
        return [f"{len(frames)} of {len(self.files)} frames ({frame_range(frames)}): {t}"
                for t, frames in by_text.items()]

    def reasons(self) -> list[str]:
        """Why it does not pass, and what would clear it; per frame range for a sequence."""
        if not self.is_sequence:
            return self.files[0].reasons() + self.files[0].notes
        return self._per_frame(lambda f: f.reasons(memory=False) + f.notes) + self._memory_per_frame()

    def _memory_per_frame(self) -> list[str]:
        """Each frame's memory names its own bytes (path, time), so it is said once per memory
        with the frames it speaks for and the first frame's words as the example."""
        by_source: dict[str, list[tuple[int, str]]] = {}
        for f, frame in zip(self.files, self.frames, strict=True):
            for r in f.verdict.recollections:
                by_source.setdefault(r.source, []).append((frame, r.statement))
        out = []
        for said in by_source.values():
            frames = [n for n, _ in said]
            first, statement = said[0]
            example = f" (frame {first}: {statement})" if len(said) > 1 else f": {statement}"
            out.append(f"{len(frames)} of {len(self.files)} frames ({frame_range(frames)}) from memory"
                       + example)
        return out

    def warnings(self) -> list[str]:
        """Findings that do not block (an unvetted tool), each said once."""
        return self._per_frame(lambda f: [f"{x.rule}: {x.message}" for x in f.judgement.open
                                          if not x.blocking])

    def findings(self) -> list[Finding]:
        return [x for f in self.files for x in f.judgement.open]

    def memory(self) -> list[str]:
        return list(dict.fromkeys(s for f in self.files for s in f.memory))

    def approvals(self) -> list[dict[str, Any]]:
        seen: dict[tuple[Any, ...], dict[str, Any]] = {}
        for f in self.files:
            for c in f.judgement.cleared:
                s = approval_summary(c.approval)
                entry = seen.setdefault((s["approver"], s["reference"], s["subject_sha256"]),
                                        {**s, "cleared": []})
                if c.finding.rule not in entry["cleared"]:
                    entry["cleared"].append(c.finding.rule)
        return list(seen.values())


class ClearAsset(AssetResult):
    """A single file that cleared with nothing to say (no finding, note, memory or approval),
    as a warm gate answers it from its cached decision: compact, because a package is mostly
    such files (200,000 of them must not cost a verdict, an outcome and a judgement each).
    It answers as the equivalent AssetResult would; `files` builds that file's FileOutcome
    (from its cached verdict) only when a report asks for it."""

    def __init__(self, name: str, sha256: str, size: int, fmt: str, classification: str,
                 generator: str | None, source: str, kept: object,
                 decode: Callable[[object, str], Verdict]) -> None:
        self.name = name
        self.sha256 = sha256
        self.sequence = None
        self.status = Status.CLEAR
        self.file_format = fmt
        self.file_size = size
        self.class_name = classification
        self.generator = generator
        self.source = source
        self._kept = kept  # what `decode` makes its verdict from (one shared decoder, no closure per file)
        self._decode = decode
        self._files: list[FileOutcome] | None = None

    @property  # a dataclass field in AssetResult; built on demand here
    def files(self) -> list[FileOutcome]:  # type: ignore[override]
        if self._files is None:
            self._files = [FileOutcome(self.name, self._decode(self._kept, self.name), Judgement(),
                                       source=self.source)]
        return self._files

    @property
    def file_count(self) -> int:
        return 1

    @property
    def classification(self) -> Classification:
        return Classification(self.class_name)

    @property
    def format(self) -> str:
        return self.file_format

    @property
    def size(self) -> int:
        return self.file_size

    @property
    def first_blocking(self) -> FileOutcome | None:
        return None

    def reasons(self) -> list[str]:
        return []

    def warnings(self) -> list[str]:
        return []

    def findings(self) -> list[Finding]:
        return []

    def memory(self) -> list[str]:
        return []

    def approvals(self) -> list[dict[str, Any]]:
        return []


@dataclass
class GateResult:
    assets: list[AssetResult]
    paths: list[str]
    inputs_digest: str
    policy_digest: str
    decided_at: str
    dry_run: bool = False
    decision_id: int | None = None
    fatal: str | None = None  # a reason the whole gate could not decide (never clear)
    policy_version: str | None = None
    edits: list[EditResult] = field(default_factory=list)  # timelines handed to the gate, shot by shot
    show_dir: str | None = None  # the show's folder: reports for people show paths relative to it
    packages: list[PackageReport] = field(default_factory=list)  # IMF packages: problems, CPL timeline
    masters: list[MasterReport] = field(default_factory=list)  # final videos: segments matching AI material

    @cached_property
    def counts(self) -> dict[str, int]:
        out = {str(s): 0 for s in Status}
        for a in self.assets:
            out[str(a.status)] += 1
        return out

    @cached_property  # assets are fixed once decided; reports ask many times
    def n_files(self) -> int:
        """Files judged: a clip whose media was not found is a missing clip, not a file."""
        return sum(a.file_count for a in self.assets) - self.missing_clips

    @property
    def missing_clips(self) -> int:
        """Clips of the edits whose media was not found and that stand as undecided assets."""
        return sum(1 for e in self.edits for s in e.shots if s.missing is not None)

    @property
    def result(self) -> str:
        c = self.counts
        if self.fatal or c["undecided"]:
            return "undecided"
        if c["blocked"]:
            return "blocked"
        return "clear"

    @property
    def clear(self) -> bool:
        return self.result == "clear"

    @property
    def exit_code(self) -> int:
        return {"clear": EXIT_OK, "blocked": EXIT_BLOCKED}.get(self.result, EXIT_UNDECIDED)

    def summary(self) -> str:
        c = self.counts
        head = plural(self.n_files, "file")
        if len(self.assets) - self.missing_clips != self.n_files:
            head += f" in {plural(len(self.assets) - self.missing_clips, 'asset')}"
        if self.missing_clips:
            head += f" and {plural(self.missing_clips, 'missing clip')}"
        parts = [f"{c['clear']} clear", f"{c['blocked']} blocked"]
        parts += [f"{c[k]} {k}" for k in ("approved", "warning", "undecided") if c[k]]
        line = f"{head}: {', '.join(parts)}"
        if self.fatal:
            line += f" — could not decide: {self.fatal}"
        return line
