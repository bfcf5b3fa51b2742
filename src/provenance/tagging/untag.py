"""Remove from a file the marks one `provenance tag` wrote, as safely as tagging writes them.

What is removed is exactly what the tag event asserted, never the file's own evidence:
- our XMP namespace (`XMP-provenance:*`) goes;
- the IPTC properties the tag wrote (source type, AI system, version, prompt) are put back
  to what the tag event says they held before (`prior`, recorded at tag time) — a
  generator's own `trainedAlgorithmicMedia` survives a tag and its retraction; a tag event
  that does not say what it replaced (recorded before untag existed) keeps them;
- our C2PA manifest is removed only when it is the whole store (the file had no C2PA
  before the tag) and it can be deleted (JPEG's APP11 segments by ExifTool, PNG's caBX
  chunks here); a store with earlier history, or another format (MP4, WAV … — ExifTool
  12.57 cannot delete JUMBF), is kept and reported: XMP written into a signed file would
  break its hash, so the file is then left as it is;
- a sidecar the tag created is removed; one that existed before keeps its foreign fields.

Every rewrite is temp → verify (our fields gone, the IPTC values restored, no C2PA left
where it was removed, media essence unchanged) → fsync → rename, as `tagging/atomic.py`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from provenance.errors import TagError
from provenance.formats import XMP_WRITABLE
from provenance.identify import identify, sha256_file
from provenance.ledger import Ledger
from provenance.ledger.state import AI_CLASSES
from provenance.tagging import sidecar as _sidecar
from provenance.tagging.atomic import Workspace, fsync_dir, safe_alias
from provenance.tagging.c2pa_sign import declaration_in, read_store, supported_mime
from provenance.tagging.essence import essence_digest
from provenance.tagging.xmp import XmpTool
from provenance.vocabulary import XMP_NS

# Formats whose C2PA store ExifTool can delete as a group (12.57: APP11 holds JPEG's JUMBF).
_C2PA_DELETE = {"jpeg": "-APP11:all="}
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_PNG_C2PA = b"caBX"


def drop_png_c2pa(src: Path, dst: Path) -> None:
    """Copy a PNG without its `caBX` chunks (the C2PA store), every other byte as it was.

    Written here because nothing installed can: ExifTool 12.57 does not delete JUMBF,
    c2pa-python has no removal, and Pillow would re-encode the image. A PNG is a signature
    then length/type/data/CRC chunks, so dropping whole chunks needs no CRC recomputed."""
    with open(src, "rb") as fh, open(dst, "wb") as out:
        if fh.read(8) != _PNG_SIGNATURE:
            raise TagError("not a PNG (signature)", src)
        out.write(_PNG_SIGNATURE)
        while True:
            head = fh.read(8)
            if not head:
                break
            if len(head) < 8:
                raise TagError("truncated PNG chunk header", src)
            length = int.from_bytes(head[:4], "big")
            body = fh.read(length + 4)
            if len(body) < length + 4:
                raise TagError("truncated PNG chunk", src)
            if head[4:] != _PNG_C2PA:
                out.write(head + body)
            if head[4:] == b"IEND":
                out.write(fh.read())  # bytes after IEND are kept as they are
                break


@dataclass(frozen=True)
class Stripped:
    """What happened to one file's marks."""

    sha256_before: str
    sha256_after: str
    removed: tuple[str, ...] = ()  # "xmp", "c2pa", "sidecar"
    kept: tuple[str, ...] = field(default=())  # what stays, each with why

    def to_dict(self) -> dict[str, Any]:
        return {"sha256_before": self.sha256_before, "sha256_after": self.sha256_after,
                "removed": list(self.removed), "kept": list(self.kept)}


def _restore_args(prior: dict[str, Any] | None) -> list[str]:
    fields = (prior or {}).get("fields") or {}
    return [f"-{tag}=" if value in (None, "") else f"-{tag}={value}"
            for tag, value in sorted(fields.items())]


def _ours(have: dict[str, Any]) -> bool:
    return any(k.startswith(XMP_NS + ":") for k in have)


def _sidecar_only_ai(event: dict[str, Any]) -> bool:
    """A verdict whose AI evidence came only from a sidecar (which the tag wrote)."""
    verdict = event["payload"].get("verdict") or {}
    sources = {e.get("source") for e in verdict.get("evidence") or ()
               if isinstance(e, dict) and e.get("signal") in AI_CLASSES and e.get("source") != "ledger"}
    return bool(sources) and sources <= {"sidecar"}


def withdrawals(ledger: Ledger, tag: dict[str, Any], sha256: str) -> dict[str, list[int]]:
    """Which events' teaching the retraction withdraws, per hash.

    The untagged original keeps everything but the tag itself (its own evidence, seen in a
    verdict, is not ours to withdraw). The tagged bytes exist only because of the tag, so what
    was learnt from them goes — except where the tag changed no bytes (a sidecar), where only
    verdicts whose AI evidence was the sidecar alone go."""
    before = tag["payload"].get("sha256_before") or sha256
    if before == sha256:
        ids = [tag["id"], *(e["id"] for e in ledger.teaching_events(sha256)
                           if e["kind"] == "verdict" and _sidecar_only_ai(e))]
        return {sha256: sorted(set(ids))}
    learnt = {tag["id"], *(e["id"] for e in ledger.teaching_events(sha256))}
    return {before: [tag["id"]], sha256: sorted(learnt)}


class Untagger:
    """One ExifTool process for a batch (like `Tagger`)."""

    def __init__(self, anchors_pem: str | None = None) -> None:
        self._xmp = XmpTool()
        self._anchors = anchors_pem

    def __enter__(self) -> Untagger:
        return self

    def __exit__(self, *exc: object) -> None:
        self._xmp.close()

    def strip(self, given: Path, prior: dict[str, Any] | None) -> Stripped:
        target = Path(os.path.realpath(given)) if given.is_symlink() else given
        asset = identify(target)
        st = os.stat(target)
        removed: list[str] = []
        kept: list[str] = []
        if not os.access(target.parent, os.W_OK | os.X_OK):
            raise TagError("folder is not writable; nothing removed", given)
        side = _sidecar.sidecar_path(target)
        if side.is_file() and _ours(self._xmp.read(side)):
            self._strip_sidecar(side, prior)
            removed.append("sidecar")
        sha_after = asset.sha256
        if asset.format in XMP_WRITABLE and _ours(self._xmp.read(target)):
            sha_after, what, why = self._strip_embedded(target, st, asset.format, prior)
            removed += what
            kept += why
        elif (mime := supported_mime(asset.format)) and read_store(target, mime, self._anchors):
            kept.append("c2pa (no XMP of ours to remove beside it; the manifest stays)")
        return Stripped(asset.sha256, sha_after, tuple(removed), tuple(kept))

    def _strip_sidecar(self, side: Path, prior: dict[str, Any] | None) -> None:
        if prior is not None and not prior.get("sidecar_existed"):
            # The tag made it: it goes whole (a sidecar is never the asset's own evidence).
            side.unlink()
            fsync_dir(side.parent)
            return
        with Workspace(side) as ws:
            temp = ws.new(".xmp")
            temp.write_bytes(side.read_bytes())
            self._xmp.run_args(temp, "-overwrite_original", f"-{XMP_NS}:all=",
                               *_restore_args(prior), str(temp))
            if _ours(self._xmp.read(temp)):
                raise TagError("our fields are still in the sidecar after removing them", side)
            ws.commit(temp, side, os.stat(side))

    def _strip_embedded(self, target: Path, st: os.stat_result, fmt: str,
                        prior: dict[str, Any] | None) -> tuple[str, list[str], list[str]]:
        mime = supported_mime(fmt)
        store = read_store(target, mime, self._anchors) if mime else None
        args = [f"-{XMP_NS}:all="]
        removed, kept = ["xmp"], []
        if prior is None:
            kept.append("IPTC source type and AI system (the tag event does not say what they "
                        "held before, so they stay)")
        else:
            args += _restore_args(prior)
        if store is not None:
            only_ours = len(store.get("manifests") or {}) == 1 and declaration_in(store) is not None
            if not only_ours:
                return (sha256_file(target), [], [
                    "xmp and c2pa (the C2PA store has history beside our manifest: removing "
                    "XMP would break its signature, removing the manifest would lose the "
                    "history)"])
            if fmt not in _C2PA_DELETE and fmt != "png":
                return (sha256_file(target), [], [
                    f"xmp and c2pa (ExifTool cannot delete a C2PA manifest from {fmt}; "
                    "removing XMP alone would break its signature)"])
            if fmt in _C2PA_DELETE:
                args.append(_C2PA_DELETE[fmt])
            removed.append("c2pa")
        with Workspace(target) as ws:
            temp = ws.new()
            before = essence_digest(target, fmt)
            source = target
            if fmt == "png" and "c2pa" in removed:
                source = ws.new()
                drop_png_c2pa(target, source)
            with safe_alias(source) as alias:
                self._xmp.run_args(target, "-o", str(temp), *args, str(alias))
            have = self._xmp.read(temp)
            if _ours(have):
                raise TagError("our XMP is still there after removing it", target)
            for tag, value in ((prior or {}).get("fields") or {}).items():
                if (have.get(tag) or None) != (value or None):
                    raise TagError(f"{tag} did not read back as it was before the tag", target)
            if "c2pa" in removed and mime and read_store(temp, mime, self._anchors) is not None:
                raise TagError("the C2PA manifest is still there after removing it", target)
            if essence_digest(temp, fmt) != before:
                raise TagError("media essence changed while untagging; left untouched", target)
            sha_after = sha256_file(temp)
            ws.commit(temp, target, st)
        return sha_after, removed, kept


