"""The decision file a delivery travels with, and the receiver's check against it.

`gate --decision FILE` writes what the ledger records of the run plus the (relative path,
sha256) of every file judged. `verify_delivery(paths, decision)` walks the received copy the way
the gate walked the package (same relative names, same sidecar rule) and says whether it is
exactly what was judged: every file present with its judged bytes, nothing extra, and the same
`inputs_digest`. A file swapped between the gate and the transfer shows up here by name.

With `gate --decision-key KEY` the file is a DSSE envelope (Ed25519, its own payload type, so
it can never pass for an approval or a checkpoint) and `verify-delivery --public-key KEY.pub`
accepts only a file that key signed: the receiver then knows the decision is the gate's.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from provenance.errors import ProvenanceError
from provenance.gate.digests import inputs_digest
from provenance.gate.result import GateResult
from provenance.gate.walk import walk_package
from provenance.identify import sha256_file
from provenance.signed_json import open_json, sign_json

SCHEMA = "provenance.delivery-decision/v1"
PAYLOAD_TYPE = "application/vnd.provenance.delivery-decision+json"


class DecisionFileError(ProvenanceError):
    """The decision file is unreadable, of another kind, or inconsistent with itself (exit 3)."""


def decision_file(record: dict[str, Any], result: GateResult, approvals_dir: str) -> dict[str, Any]:
    """The decision file's content: the ledger's record of the run and the files it judged.

    An edit's files are named relative to its root (its folder, or the show's: see
    `gate.edits`), so the receiver finds them by the same names. A clip whose media was not
    found is no file: it is listed under its edit, never among the judged files."""
    stand_ins = {id(s.missing) for e in result.edits for s in e.shots if s.missing is not None}
    files = sorted((o.relpath, o.verdict.sha256) for a in result.assets for o in a.files
                   if id(o) not in stand_ins)
    content: dict[str, Any] = {"schema": SCHEMA, "decision": record, "approvals_dir": approvals_dir,
                               "files": [{"path": path, "sha256": sha} for path, sha in files]}
    if result.edits:
        content["edits"] = [{"edit": e.relpath, "clips": [
            {"shot": s.shot.index, "clip": s.shot.name, "files": sorted({o.relpath for o in s.files}),
             **({"missing": s.shot.media.missing} if s.shot.media.missing else {})}
            for s in e.shots]} for e in result.edits]
    return content


def sign_decision(content: dict[str, Any], key: Ed25519PrivateKey) -> dict[str, Any]:
    """`content` (from `decision_file`) as a DSSE envelope signed with `key`."""
    return sign_json(content, key, PAYLOAD_TYPE)


def open_decision(doc: Any, public: Ed25519PublicKey | None) -> tuple[Any, bool]:
    """(the decision file's content, whether its signature was checked). With `public`, only
    a file that key signed is accepted; a signed file without `public` is read unchecked."""
    if not (isinstance(doc, dict) and "payloadType" in doc):
        if public is not None:
            raise DecisionFileError("the decision file is not signed, but a public key was given")
        return doc, False
    return open_json(doc, PAYLOAD_TYPE, "delivery decision", public, DecisionFileError), public is not None


@dataclass(frozen=True)
class DeliveryCheck:
    """How a received copy compares with the decision it came with."""

    result: str  # what the gate decided ("clear" is the only one a delivery may arrive with)
    expected_digest: str
    digest: str  # inputs_digest of what arrived
    missing: list[str] = field(default_factory=list)  # judged, not delivered
    extra: list[str] = field(default_factory=list)  # delivered, never judged
    changed: list[str] = field(default_factory=list)  # delivered with other bytes than judged
    unreadable: list[str] = field(default_factory=list)
    clips: dict[str, str] = field(default_factory=dict)  # a changed or missing file's clip(s) in the edit

    @property
    def ok(self) -> bool:
        return (self.result == "clear" and self.digest == self.expected_digest
                and not (self.missing or self.extra or self.changed or self.unreadable))

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "result": self.result, "expected_inputs_digest": self.expected_digest,
                "inputs_digest": self.digest, "missing": self.missing, "extra": self.extra,
                "changed": self.changed, "unreadable": self.unreadable, "clips": self.clips}

    def named(self, relpath: str) -> str:
        """`relpath`, with the edit's clip(s) it is the media of."""
        return f"{relpath} ({self.clips[relpath]})" if relpath in self.clips else relpath


def _judged_files(decision: Any) -> tuple[dict[str, Any], dict[str, str | None]]:
    if not isinstance(decision, dict) or decision.get("schema") != SCHEMA:
        raise DecisionFileError(f"not a gate decision file (schema {SCHEMA} expected)")
    record, files = decision.get("decision"), decision.get("files")
    if not isinstance(record, dict) or not isinstance(files, list) or not all(
            isinstance(f, dict) and isinstance(f.get("path"), str)
            and (f.get("sha256") is None or isinstance(f.get("sha256"), str)) for f in files):
        raise DecisionFileError("malformed gate decision file (decision or files missing)")
    judged = {f["path"]: f["sha256"] for f in files}
    # The list must be the one the digest was made of: an edited list is not a decision.
    if inputs_digest(judged.items()) != record.get("inputs_digest"):
        raise DecisionFileError("the decision file's file list does not match its inputs_digest "
                                "(edited after the gate wrote it)")
    return record, judged


def _edit_names(decision: dict[str, Any]) -> list[str]:
    edits = decision.get("edits")
    if not isinstance(edits, list):
        return []
    return [e["edit"] for e in edits if isinstance(e, dict) and isinstance(e.get("edit"), str) and e["edit"]]


def _clips(decision: dict[str, Any]) -> dict[str, str]:
    """Each edit's file, by name: the edit itself, or which of its clips it is the media of."""
    out: dict[str, list[str]] = {}
    for e in decision.get("edits") or []:
        if not (isinstance(e, dict) and isinstance(e.get("edit"), str) and isinstance(e.get("clips"), list)):
            continue
        out.setdefault(e["edit"], []).append("the edit")
        for c in e["clips"]:
            for f in c.get("files") or [] if isinstance(c, dict) else []:
                if isinstance(f, str):
                    out.setdefault(f, []).append(f"clip {c.get('shot')} '{c.get('clip')}' of {e['edit']}")
    return {f: "; ".join(dict.fromkeys(labels)) for f, labels in out.items()}


def _zipped_in(name: str, judged: dict[str, str | None]) -> str | None:
    """The judged `.otioz` whose member `name` is (the gate judged its media extracted, named
    inside it; the receiver has only the archive)."""
    parts = PurePosixPath(name).parts
    for i in range(1, len(parts)):
        prefix = PurePosixPath(*parts[:i]).as_posix()
        if prefix.lower().endswith(".otioz") and prefix in judged:
            return prefix
    return None


def _received_root(path: Path, names: list[str]) -> Path | None:
    """(the receiver's copy of the edit's root, the edit's name) when `path` is a copy of an
    edit the decision lists: `…/deliveries/EP101/cut.otio` for `deliveries/EP101/cut.otio`."""
    here = path.absolute().parts
    for name in names:
        parts = PurePosixPath(name).parts
        if parts and not PurePosixPath(name).is_absolute() and ".." not in parts \
                and len(here) > len(parts) and here[-len(parts):] == parts:
            return Path(*here[:-len(parts)])
    return None


def _received(root: Path, names: Iterable[str]) -> Iterator[tuple[str, Path | None]]:
    """Each judged name and where the receiver's copy of it is (None: it cannot be there, e.g. a
    clip outside the edit's root, named by the sender's absolute path)."""
    for name in names:
        parts = PurePosixPath(name).parts
        if PurePosixPath(name).is_absolute() or ".." in parts or not parts:
            yield name, None
        else:
            yield name, root.joinpath(*parts)


def verify_delivery(paths: Sequence[str | os.PathLike[str]], decision: Any) -> DeliveryCheck:
    """Compare the files below `paths` with `decision` (a decision file's parsed content).

    A path that is the receiver's copy of an edit the decision lists stands for the edit and
    every file judged with it, found by their names relative to the edit's root."""
    record, judged = _judged_files(decision)
    approvals_dir = decision.get("approvals_dir")
    delivered: dict[str, str | None] = {}
    unreadable = []

    def read(relpath: str, path: Path) -> None:
        try:
            if not stat.S_ISREG(os.stat(path).st_mode):  # a FIFO would block the read forever
                raise OSError(0, "not a regular file")
            delivered[relpath] = sha256_file(path)
        except OSError as exc:
            delivered[relpath] = None
            unreadable.append(f"{relpath}: {exc.strerror or exc}")

    names = _edit_names(decision)
    plain = []
    for raw in paths:
        root = _received_root(Path(raw), names) if os.path.exists(raw) else None  # an .otiod is a folder
        if root is None:
            plain.append(raw)
            continue
        for relpath, copy in _received(root, judged):
            if copy is not None and os.path.lexists(copy):
                read(relpath, copy)
    for pf in walk_package(plain, approvals_dir if isinstance(approvals_dir, str) else ""):
        read(pf.relpath, pf.path)
    for name, sha in judged.items():
        bundle = _zipped_in(name, judged)
        if bundle is not None and name not in delivered and delivered.get(bundle) == judged[bundle]:
            delivered[name] = sha  # a member of an .otioz that arrived with the judged bytes: so did it
    missing = sorted(set(judged) - set(delivered))
    changed = sorted(p for p in set(judged) & set(delivered)
                     if delivered[p] is not None and delivered[p] != judged[p])
    clips = _clips(decision)
    return DeliveryCheck(
        result=str(record.get("result")), expected_digest=str(record.get("inputs_digest")),
        digest=inputs_digest(delivered.items()), missing=missing,
        extra=sorted(set(delivered) - set(judged)), changed=changed, unreadable=unreadable,
        clips={p: clips[p] for p in missing + changed if p in clips},
    )
