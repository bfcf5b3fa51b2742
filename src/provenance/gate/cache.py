"""The gate's verdict cache: an unchanged file (same dev, inode, size, mtime, ctime) under
unchanged reader settings is not read again.

This is what makes a second gate over an unchanged package cost a walk plus a lookup per
file instead of a hash and an ExifTool call per file. The rule is the ledger's `known_hash`
rule, applied to the readers' whole verdict; `--verify-hashes` bypasses it. What the ledger
remembers about a hash is NOT cached: it is recalled fresh on every run. Verdicts with
errors are never cached, so an unreadable file is retried every time. The cache is a plain
SQLite file beside the ledger; deleting it only makes the next run cold.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
from collections.abc import Container, Sequence
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from provenance import __version__
from provenance.evidence import ReaderSettings
from provenance.identify import StatKey, key_of
from provenance.model import (
    C2paSummary,
    Classification,
    Declarations,
    Evidence,
    ManifestInfo,
    Risk,
    Signal,
    Verdict,
)

SIDECAR_SUFFIXES = (".xmp", ".c2pa")  # what the sidecar and c2pa readers look for beside an asset


def cache_key(path: Path, siblings: Container[str] | None = None) -> tuple[StatKey, str] | None:
    """The asset's stat key plus its possible sidecars' (a sidecar added later changes the verdict).

    `siblings`, the names in the asset's folder, spares a stat per absent sidecar; a listing
    taken earlier in the run is enough: a sidecar that appears later changes the next key.
    """
    name = str(path)
    try:
        key = key_of(os.stat(name))
    except OSError:
        return None
    stem = name[: -len(path.suffix)] if path.suffix else None
    aux: list[StatKey | None] = []
    for suffix in SIDECAR_SUFFIXES:
        for candidate in (name + suffix, stem + suffix if stem else None):
            if candidate is None or (siblings is not None and os.path.basename(candidate) not in siblings):
                aux.append(None)
                continue
            try:
                aux.append(key_of(os.stat(candidate)))
            except OSError:
                aux.append(None)
    return key, repr(aux)


def settings_digest(settings: ReaderSettings, readers: Sequence[str]) -> str:
    """Everything besides the bytes that can change a verdict: our version, readers, their settings."""
    def ver(dist: str) -> str | None:
        try:
            return version(dist)
        except PackageNotFoundError:
            return None
    material = {"provenance": __version__, "readers": list(readers), "c2pa": ver("c2pa-python"),
                "pyexiftool": ver("pyexiftool"), "anchors": settings.trust_anchors_pem,
                "signatures": [sorted(s.items()) for s in settings.extra_signatures]}
    return hashlib.sha256(json.dumps(material, sort_keys=True).encode()).hexdigest()


def verdict_from_dict(d: dict[str, Any]) -> Verdict:
    c = d.get("c2pa") or {}
    decl = d.get("declarations") or {}
    return Verdict(
        path=d["path"], sha256=d["sha256"], format=d["format"], size=d["size"],
        classification=Classification(d["classification"]),
        evidence=tuple(Evidence(e["source"], e["field"], e["value"], Signal(e["signal"]), e.get("generator"),
                                e.get("manifest")) for e in d.get("evidence", ())),
        c2pa=C2paSummary(
            present=c.get("present", False), integrity=c.get("integrity"), trust=c.get("trust"),
            manifests=tuple(ManifestInfo(**{**m, "actions": tuple(m.get("actions", ()))})
                            for m in c.get("manifests", ())),
            codes=tuple(c.get("codes", ())), remote_url=c.get("remote_url"), sidecar=c.get("sidecar")),
        declarations=Declarations(tool=decl.get("tool"), tool_version=decl.get("tool_version"),
                                  purpose=decl.get("purpose"),
                                  risks=frozenset(Risk(r) for r in decl.get("risks", ()))),
        errors=tuple(d.get("errors", ())), generator=d.get("generator"), link_target=d.get("link_target"),
    )


class VerdictCache:
    def __init__(self, file: Path, settings: str) -> None:
        self.settings = settings
        file.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(file)
        self._db.execute("CREATE TABLE IF NOT EXISTS verdicts (dev INTEGER, inode INTEGER, size INTEGER, "
                         "mtime_ns INTEGER, ctime_ns INTEGER, settings TEXT, aux TEXT, verdict TEXT, "
                         "PRIMARY KEY (dev, inode, settings))")
        rows = self._db.execute("SELECT dev, inode, size, mtime_ns, ctime_ns, aux, verdict FROM verdicts "
                                "WHERE settings = ?", (settings,))
        self._rows: dict[tuple[int, int], tuple[StatKey, str, str]] = {
            (r[0], r[1]): (tuple(r[:5]), r[5], r[6]) for r in rows}
        self._pending: list[tuple[Any, ...]] = []

    def holds(self, dev: int, inode: int) -> bool:
        """Whether anything is cached for this file at all (a miss needs no full key)."""
        return (dev, inode) in self._rows

    def get(self, key: tuple[StatKey, str]) -> Verdict | None:
        stat, aux = key
        hit = self._rows.get((stat[0], stat[1]))
        if hit is None or hit[0] != stat or hit[1] != aux:  # anything changed: read the bytes again
            return None
        return verdict_from_dict(json.loads(hit[2]))

    def put(self, key: tuple[StatKey, str], verdict: Verdict) -> None:
        if verdict.errors or verdict.sha256 is None:
            return
        self._pending.append((*key[0], self.settings, key[1], json.dumps(verdict.to_dict())))

    def close(self) -> None:
        try:
            if self._pending:
                with self._db:
                    self._db.executemany("INSERT OR REPLACE INTO verdicts VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                                         self._pending)
        finally:
            self._db.close()
