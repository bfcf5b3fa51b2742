"""The one place the stages meet: path → identify → evidence → classify → Verdict.

`Inspector` keeps the readers (and the ExifTool process inside one of them) alive
across many files; use it as a context manager. Policy is not applied here: the
watch daemon and the gate call `provenance.policy` on the verdicts.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Protocol

from provenance.classify import classify, pick_generator
from provenance.errors import AssetError
from provenance.evidence import EvidenceReader, ReaderSettings
from provenance.evidence.registry import DEFAULT_READERS, load_readers
from provenance.identify import KnownHash, identify
from provenance.model import C2paSummary, Classification, Declarations, Evidence, Verdict


class HashMemory(Protocol):
    """What the ledger remembers about a content hash (e.g. it was tagged AI elsewhere)."""

    def recall(self, sha256: str) -> Sequence[Evidence]: ...


class Inspector:
    def __init__(
        self,
        settings: ReaderSettings | None = None,
        readers: Sequence[str] = DEFAULT_READERS,
        memory: HashMemory | None = None,
        known_hash: KnownHash | None = None,
    ) -> None:
        self.settings = settings or ReaderSettings()
        self._readers: list[EvidenceReader] = load_readers(readers, self.settings)
        self._memory = memory
        self._known_hash = known_hash

    def __enter__(self) -> Inspector:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        for reader in self._readers:
            reader.close()

    def inspect(self, path: str | os.PathLike[str]) -> Verdict:
        """Judge one file. Never raises for a bad file: the Verdict carries the errors."""
        try:
            asset = identify(path, self._known_hash)
        except AssetError as exc:
            return Verdict(path=str(path), sha256=None, format="unknown", size=None,
                           classification=Classification.UNKNOWN, errors=(exc.reason,))
        evidence: list[Evidence] = []
        errors: list[str] = []
        c2pa = C2paSummary()
        declarations = Declarations()
        for reader in self._readers:
            out = reader.read(asset)
            evidence.extend(out.evidence)
            errors.extend(f"{reader.name}: {e}" for e in out.errors)
            if out.c2pa is not None and out.c2pa.present:
                c2pa = out.c2pa
            if out.declarations is not None:
                declarations = declarations.merged(out.declarations)
        if self._memory is not None:
            evidence.extend(self._memory.recall(asset.sha256))
        return Verdict(
            path=str(path),
            sha256=asset.sha256,
            format=asset.format,
            size=asset.size,
            classification=classify(evidence),
            evidence=tuple(evidence),
            c2pa=c2pa,
            declarations=declarations,
            errors=tuple(errors),
            generator=pick_generator(evidence),
            link_target=str(asset.link_target) if asset.link_target else None,
        )

    def inspect_paths(self, paths: Iterable[str | os.PathLike[str]]) -> Iterator[Verdict]:
        for path in iter_files(paths):
            yield self.inspect(path)


SIDECAR_SUFFIXES = (".xmp", ".c2pa", ".approval.json")


def is_sidecar(path: Path) -> bool:
    """A sidecar beside its asset (`clip.exr.xmp`) describes that asset; it is not one."""
    name = path.name
    for suffix in SIDECAR_SUFFIXES:
        if (name.endswith(suffix) and len(name) > len(suffix)
                and (path.parent / name[: -len(suffix)]).exists()):
            return True
    return False


def iter_files(paths: Iterable[str | os.PathLike[str]]) -> Iterator[Path]:
    """Files named directly, and every file below named folders (sorted, sidecars skipped).

    Directory symlinks are not followed (a loop must not hang a walk); file symlinks are
    yielded so the caller judges the target's bytes and can report the link.
    """
    for raw in paths:
        p = Path(raw)
        if p.is_dir() and not p.is_symlink():
            for root, dirs, files in os.walk(p):
                dirs.sort()
                for name in sorted(files):
                    child = Path(root) / name
                    if not is_sidecar(child):
                        yield child
                for name in dirs:
                    if (Path(root) / name).is_symlink():
                        yield Path(root) / name  # reported as "not a regular file"/loop
        else:
            yield p


def inspect(path: str | os.PathLike[str], settings: ReaderSettings | None = None) -> Verdict:
    """Judge one file with the default readers (a convenience for pipeline code)."""
    with Inspector(settings) as inspector:
        return inspector.inspect(path)
