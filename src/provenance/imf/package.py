"""One IMF package: a folder holding `ASSETMAP.xml`, read and checked against its own PKLs.

`open_package(root)` parses the ASSETMAP, every PKL it flags and every CPL the PKLs list,
hashes every mapped asset once (SHA-1 for the PKL and sha256 for the gate and approvals, in
one streamed pass) and lists every problem. What is a problem, and which way it fails:

BLOCKED — the package is definitely not what its manifests say (a fact, named):
- an asset whose size or hash differs from its PKL entry (the asset named);
- an asset a PKL lists that is missing, or that no ASSETMAP entry locates;
- a file in the package that no ASSETMAP entry maps (it would be delivered unverified);
- an ASSETMAP path that escapes the package (`..`, absolute, or a symlink out): never
  followed, so the asset it claims to be is missing from the package;
- an ASSETMAP asset (other than a PKL) that no PKL lists: nothing vouches for its bytes.

UNDECIDED — we cannot tell what the package is (ambiguity, or a document we cannot read):
- an ASSETMAP, PKL or CPL that is not well formed, in an unknown namespace, or refused
  (entities, DTDs);
- a UUID mapped twice, two UUIDs on one path, or one asset listed with two different hashes;
- a CPL resource whose track file is not in this package (a supplemental package's OV):
  that material cannot be judged here.

The PKL is not authenticated (anyone who can write the package can rewrite it): its check
proves the package is internally consistent, not who made it. What decides a delivery is
the gate's own judgement of the bytes, and approvals bound to the sha256 we computed.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
from collections import Counter
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path, PurePosixPath

from provenance._os import open_regular
from provenance.imf.documents import (
    CPL_NS,
    Composition,
    ImfError,
    MappedAsset,
    PackingList,
    namespace_of,
    parse_assetmap,
    parse_cpl,
    parse_pkl,
)

ASSETMAP = "ASSETMAP.xml"
VOLINDEX = "VOLINDEX.xml"
_CHUNK = 1 << 20


class Severity(StrEnum):
    BLOCKED = "blocked"
    UNDECIDED = "undecided"


BLOCKED, UNDECIDED = Severity.BLOCKED, Severity.UNDECIDED

@dataclass(frozen=True)
class Problem:
    severity: Severity
    reason: str
    path: str | None = None  # relative to the package root, when the problem has a file
    asset_id: str | None = None

    def to_dict(self) -> dict[str, str | None]:
        return {"severity": str(self.severity), "reason": self.reason, "path": self.path,
                "asset_id": self.asset_id}


@dataclass(frozen=True)
class PackageAsset:
    id: str
    relpath: str
    type: str
    sha256: str | None  # None when the file could not be hashed (missing, escaping, unreadable)
    size: int | None
    sha1: str | None = None


@dataclass
class Package:
    root: Path
    assets: dict[str, PackageAsset] = field(default_factory=dict)  # by UUID: what the ASSETMAP locates
    packing_lists: list[PackingList] = field(default_factory=list)
    compositions: list[Composition] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.root.name

    def by_relpath(self) -> dict[str, PackageAsset]:
        return {a.relpath: a for a in self.assets.values()}

    def listed(self) -> dict[str, str | None]:
        """UUID → sha256 of every asset a PKL lists: what an approval of the package binds."""
        ids = {a.id for pkl in self.packing_lists for a in pkl.assets}
        return {i: self.assets[i].sha256 if i in self.assets else None for i in sorted(ids)}

    def problem(self, severity: Severity, reason: str, path: str | None = None,
                asset_id: str | None = None) -> None:
        self.problems.append(Problem(severity, reason, path, asset_id))


def is_package(path: str | os.PathLike[str]) -> bool:
    return os.path.isdir(path) and os.path.isfile(os.path.join(path, ASSETMAP))


def enclosing_package(path: str | os.PathLike[str]) -> Path | None:
    """The IMF package folder `path` lies inside (not the package folder itself), if any."""
    for parent in Path(os.path.abspath(path)).parents:
        if is_package(parent):
            return parent
    return None


def _hashes(path: Path) -> tuple[str, str, int]:
    """(sha1, sha256, size) of a file in one streamed read."""
    sha1, sha256, size = hashlib.sha1(usedforsecurity=False), hashlib.sha256(), 0
    with open_regular(path) as fh:
        while chunk := fh.read(_CHUNK):
            sha1.update(chunk)
            sha256.update(chunk)
            size += len(chunk)
    return sha1.hexdigest(), sha256.hexdigest(), size


def _inside(root: Path, written: str) -> str | None:
    """Why an ASSETMAP path may not be followed, or None when it stays in the package."""
    p = PurePosixPath(written)
    if not written or p.is_absolute() or written.startswith("file:") or "\\" in written:
        return f"path {written!r} is not relative to the package"
    if ".." in p.parts:
        return f"path {written!r} climbs out of the package ('..')"
    real = os.path.realpath(root / p)
    if os.path.commonpath([real, os.path.realpath(root)]) != os.path.realpath(root):
        return f"path {written!r} leads out of the package (symlink to {real})"
    return None


def _all_files(root: Path) -> list[str]:
    """Every non-folder entry below `root` (relative, '/'), symlinks included, not followed."""
    out = []
    for folder, dirs, files in os.walk(root):
        dirs.sort()
        rel = Path(folder).relative_to(root)
        for name in sorted(files) + [d for d in dirs if os.path.islink(os.path.join(folder, d))]:
            out.append((rel / name).as_posix())
    return out


def open_package(root: Path) -> Package:
    pkg = Package(root)
    why = _inside(root, ASSETMAP)
    if why:  # the map itself lives elsewhere: what it says is not this package's to say
        pkg.problem(BLOCKED, f"the ASSETMAP: {why}; not followed", ASSETMAP)
        return pkg
    try:
        mapped = parse_assetmap(root / ASSETMAP)
    except ImfError as exc:
        pkg.problem(UNDECIDED, f"cannot read the ASSETMAP: {exc.reason}", ASSETMAP)
        return pkg
    _locate(pkg, mapped)
    _read_packing_lists(pkg, mapped)
    _verify(pkg)
    _read_compositions(pkg)
    return pkg


def _locate(pkg: Package, mapped: list[MappedAsset]) -> None:
    ids = Counter(m.id for m in mapped)
    paths = Counter(os.path.normpath(m.path) for m in mapped)
    for m in mapped:
        if ids[m.id] > 1:
            pkg.problem(UNDECIDED, f"UUID {m.id} is mapped {ids[m.id]} times in the ASSETMAP: which "
                        "file is that asset is ambiguous", m.path, m.id)
            continue
        if paths[os.path.normpath(m.path)] > 1:
            pkg.problem(UNDECIDED, f"{m.path!r} is mapped to several UUIDs in the ASSETMAP", m.path, m.id)
            continue
        why = _inside(pkg.root, m.path)
        if why:
            pkg.problem(BLOCKED, f"asset {m.id}: {why}; not followed", m.path, m.id)
            continue
        rel = PurePosixPath(os.path.normpath(m.path)).as_posix()
        sha1 = sha256 = size = None
        try:
            sha1, sha256, size = _hashes(pkg.root / rel)
        except FileNotFoundError:
            pkg.problem(BLOCKED, f"asset {m.id} is missing: the ASSETMAP maps it to {rel!r}, "
                        "which is not in the package", rel, m.id)
        except OSError as exc:
            pkg.problem(UNDECIDED, f"asset {m.id}: cannot read {rel!r}: {exc.strerror or exc}", rel, m.id)
        pkg.assets[m.id] = PackageAsset(m.id, rel, "", sha256, size, sha1)
    known = {a.relpath for a in pkg.assets.values()} | {ASSETMAP, VOLINDEX}
    known |= {PurePosixPath(os.path.normpath(m.path)).as_posix() for m in mapped}
    for rel in _all_files(pkg.root):
        if rel not in known:
            pkg.problem(BLOCKED, f"{rel!r} is in the package but in no ASSETMAP or PKL: it would be "
                        "delivered unverified", rel)


def _read_packing_lists(pkg: Package, mapped: list[MappedAsset]) -> None:
    flagged = [m for m in mapped if m.packing_list and m.id in pkg.assets and pkg.assets[m.id].sha256]
    if not flagged:  # some writers omit the flag: any mapped .xml document whose root is a PackingList
        flagged = [m for m in mapped if m.id in pkg.assets and pkg.assets[m.id].sha256
                   and m.path.lower().endswith(".xml")
                   and (namespace_of(pkg.root / pkg.assets[m.id].relpath) or ("", ""))[1] == "PackingList"]
    if not flagged:
        pkg.problem(UNDECIDED, "the ASSETMAP locates no packing list (PKL): nothing to verify "
                    "the assets against", ASSETMAP)
    for m in flagged:
        rel = pkg.assets[m.id].relpath
        try:
            pkg.packing_lists.append(parse_pkl(pkg.root / rel, rel))
        except ImfError as exc:
            pkg.problem(UNDECIDED, f"cannot read the packing list: {exc.reason}", rel, m.id)


def _verify(pkg: Package) -> None:
    """Every PKL entry against the file the ASSETMAP locates; one entry per UUID."""
    seen: dict[str, bytes] = {}
    for pkl in pkg.packing_lists:
        for listed in pkl.assets:
            if seen.setdefault(listed.id, listed.hash) != listed.hash:
                pkg.problem(UNDECIDED, f"asset {listed.id} is listed with two different hashes",
                            pkl.document, listed.id)
                continue
            asset = pkg.assets.get(listed.id)
            if asset is None:
                if not any(p.asset_id == listed.id for p in pkg.problems):
                    what = listed.original_name or listed.type
                    pkg.problem(BLOCKED, f"asset {listed.id} ({what}) is in {pkl.document} but no ASSETMAP "
                                "entry locates it: missing", pkl.document, listed.id)
                continue
            pkg.assets[listed.id] = dataclasses.replace(asset, type=listed.type)
            if asset.sha256 is None:
                continue  # missing or unreadable: already a problem
            if asset.size != listed.size:
                pkg.problem(BLOCKED, f"{asset.relpath}: size {asset.size} bytes, but {pkl.document} says "
                            f"{listed.size}", asset.relpath, listed.id)
                continue
            assert asset.sha1 is not None
            sha1, sha256 = asset.sha1, asset.sha256
            actual = bytes.fromhex(sha1 if listed.algorithm == "sha1" else sha256)
            if actual != listed.hash:
                pkg.problem(BLOCKED, f"{asset.relpath}: {listed.algorithm} does not match {pkl.document} "
                            f"(asset {listed.id}): the bytes are not the ones the package lists",
                            asset.relpath, listed.id)
    pkls = {a.id for pkl in pkg.packing_lists for a in pkl.assets}
    pkl_ids = {p.id for p in pkg.packing_lists}
    for asset in pkg.assets.values():
        if asset.id not in pkls and asset.id not in pkl_ids and pkg.packing_lists:
            pkg.problem(BLOCKED, f"{asset.relpath} (asset {asset.id}) is in the ASSETMAP but in no PKL: "
                        "nothing vouches for its bytes", asset.relpath, asset.id)


def _read_compositions(pkg: Package) -> None:
    for pkl in pkg.packing_lists:
        for listed in pkl.assets:
            asset = pkg.assets.get(listed.id)
            if asset is None or asset.sha256 is None or "xml" not in listed.type.lower():
                continue
            ns = namespace_of(pkg.root / asset.relpath)
            if ns is None or ns[1] != "CompositionPlaylist":
                continue
            if ns[0] not in CPL_NS:
                pkg.problem(UNDECIDED, f"{asset.relpath}: a CompositionPlaylist in unknown namespace "
                            f"{ns[0]!r}", asset.relpath, asset.id)
                continue
            try:
                cpl = parse_cpl(pkg.root / asset.relpath, asset.relpath)
            except ImfError as exc:
                pkg.problem(UNDECIDED, f"cannot read the CPL: {exc.reason}", asset.relpath, asset.id)
                continue
            pkg.compositions.append(cpl)
            _resources_present(pkg, cpl)


def _resources_present(pkg: Package, cpl: Composition) -> None:
    """Every track file the CPL plays is in the package (one with a problem already said is)."""
    known = set(pkg.assets) | {p.asset_id for p in pkg.problems}
    for seg in cpl.segments:
        for seq in seg.sequences:
            for res in seq.resources:
                if res.track_file_id and res.track_file_id not in known:
                    pkg.problem(UNDECIDED, f"{cpl.document}: {seq.kind} resource {res.id} plays track file "
                                f"{res.track_file_id}, which is not in this package (an OV's?): it cannot be "
                                "judged here", cpl.document, res.track_file_id)
