"""Tag assets as AI-generated or AI-edited: XMP first, C2PA signed last, sidecar otherwise.

    from provenance.tagging import tag
    result = tag("plate.jpg", kind="generated", tool="Firefly", risks=["third-party-ip"],
                 identity=SigningIdentity.in_dir(...))

For a batch, keep one `Tagger` open (one ExifTool process, one signer):

    with Tagger(identity) as tagger:
        for p in paths:
            tagger.tag(p, spec)

Per file: plan (what can this format carry, is our identical declaration already
there?) → write into temps (ExifTool `-o`, then c2pa signs the XMP'd temp into a second
temp) → verify the final temp (tag reads back, C2PA validates against our CA, history
kept, media essence unchanged) → fsync → rename over the original. Any failure leaves
the original untouched and comes back as an `error` result naming the reason; a tag
never raises for a problem with one file.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

from provenance.errors import ProvenanceError, SigningError, TagError
from provenance.evidence import ReaderSettings
from provenance.formats import SIDECAR_FORMATS, XMP_WRITABLE
from provenance.identify import identify, sha256_file
from provenance.identity import SigningIdentity
from provenance.model import Risk, Verdict
from provenance.pipeline import Inspector
from provenance.sidecars import is_sidecar
from provenance.tagging import sidecar as _sidecar
from provenance.tagging.atomic import Workspace, clean_stale_temps, is_temp_name
from provenance.tagging.c2pa_sign import (
    C2paSigner,
    declaration_in,
    integrity_failures,
    read_store,
    supported_mime,
)
from provenance.tagging.essence import essence_digest
from provenance.tagging.floor import lowering
from provenance.tagging.spec import EmbedRefused, Kind, Outcome, TagResult, TagSpec
from provenance.tagging.xmp import XmpTool, replaced

__all__ = ["Kind", "Outcome", "TagResult", "TagSpec", "Tagger", "no_identity_message", "tag"]

# Formats we know and cannot embed into (provenance.formats): sidecar without being asked.


_PARALLEL_ESSENCE_BYTES = 8 << 20


class _Pool:
    """A one-thread pool, or a stand-in that runs the job at once when workers is 0."""

    def __init__(self, workers: int) -> None:
        self._pool = ThreadPoolExecutor(workers) if workers else None

    def __enter__(self) -> _Pool:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)

    def submit(self, fn: Callable[..., str | None], *args: Any) -> Future[str | None]:
        if self._pool is not None:
            return self._pool.submit(fn, *args)
        done: Future[str | None] = Future()
        try:
            done.set_result(fn(*args))
        except BaseException as exc:  # re-raised by .result(), as a real pool would
            done.set_exception(exc)
        return done


def no_identity_message(where: Path | None = None) -> str:
    place = f" in {where}" if where else ""
    return (f"no C2PA signing identity{place}: run `provenance signer init` to create one, "
            "pass --cert FILE --key FILE, or use --no-c2pa to write XMP only")


def _read_only(st: os.stat_result, path: Path) -> bool:
    # os.access alone is not enough: root may write anything, but a 0444 file still
    # says "do not change me".
    return not (st.st_mode & 0o222) or not os.access(path, os.W_OK)


class Tagger:
    def __init__(self, identity: SigningIdentity | None = None, *, c2pa: bool = True,
                 trust_anchors_pem: str | None = None) -> None:
        if c2pa and identity is None:
            raise SigningError(no_identity_message())
        self._signer = C2paSigner(identity, trust_anchors_pem) if c2pa and identity else None
        self._anchors = self._signer.anchors_pem if self._signer else trust_anchors_pem
        self._xmp = XmpTool()
        self._cleaned: set[Path] = set()
        # Opened on the first --edited file: only a lower class than the file's own needs one.
        self._inspector: Inspector | None = None

    def __enter__(self) -> Tagger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        try:
            self._xmp.close()
        finally:
            if self._inspector is not None:
                self._inspector.close()

    def _own_verdict(self, target: Path) -> Verdict:
        """What the file's own evidence says (the readers `inspect` uses; no ledger memory)."""
        if self._inspector is None:
            self._inspector = Inspector(ReaderSettings(trust_anchors_pem=self._anchors))
        return self._inspector.inspect(target)

    def tag(self, path: str | os.PathLike[str], spec: TagSpec, *, sidecar_only: bool = False,
            dry_run: bool = False) -> TagResult:
        shown = os.fspath(path)
        try:
            return self._tag(Path(path), shown, spec, sidecar_only, dry_run)
        except ProvenanceError as exc:
            return TagResult(shown, Outcome.ERROR, reason=exc.reason)
        except OSError as exc:
            return TagResult(shown, Outcome.ERROR,
                             reason=f"{exc.strerror or exc}" + (f": {exc.filename}"
                                                                if exc.filename else ""))

    def tag_many(self, paths: Iterable[str | os.PathLike[str]], spec: TagSpec,
                 **kw: Any) -> list[TagResult]:
        return [self.tag(p, spec, **kw) for p in paths]

    # ------------------------------------------------------------------ one file

    def _tag(self, given: Path, shown: str, spec: TagSpec, sidecar_only: bool,
             dry_run: bool) -> TagResult:
        if is_temp_name(given.name):
            raise TagError("a provenance temporary file, not an asset; skipped", given)
        if is_sidecar(given):
            raise TagError("a sidecar, not an asset; tag the asset beside it", given)
        # Tag the file a symlink points at, and keep the link a link.
        target = Path(os.path.realpath(given)) if given.is_symlink() else given
        if not dry_run and target.parent not in self._cleaned:
            clean_stale_temps(target.parent)
            self._cleaned.add(target.parent)
        asset = identify(target)
        if asset.size == 0:
            raise TagError("empty file (0 bytes): nothing to tag", given)
        st = os.stat(target)
        if (st.st_size, st.st_mtime_ns) != (asset.size, asset.mtime_ns):
            raise TagError("file is still being written; try again when it is complete", given)
        fmt = asset.format
        base: dict[str, Any] = {"path": shown, "sha256_before": asset.sha256}

        mime = supported_mime(fmt) if self._signer else None
        can_xmp = fmt in XMP_WRITABLE
        use_sidecar = sidecar_only or fmt in SIDECAR_FORMATS or (not can_xmp and mime is None)
        if fmt == "unknown" and not sidecar_only:
            raise TagError("unsupported format (content not recognised); use --sidecar-only "
                           "to record a declaration beside it", given)
        if spec.kind is not Kind.GENERATED:
            refused = lowering(self._own_verdict(target), spec.kind)
            if refused:
                return TagResult(**base, outcome=Outcome.REFUSED, sha256_after=asset.sha256,
                                 reason=refused)
        if not os.access(target.parent, os.W_OK | os.X_OK):
            raise TagError("folder is not writable; nothing written", given)
        if use_sidecar:
            return self._sidecar(target, shown, spec, asset.sha256, dry_run,
                                 "requested" if sidecar_only
                                 else f"{fmt}: nothing can be embedded")

        if _read_only(st, target):
            raise TagError("file is read-only; left untouched (use --sidecar-only to tag "
                           "beside it)", given)

        any_mime = mime or supported_mime(fmt)
        store = read_store(target, any_mime, self._anchors) if any_mime else None
        have = self._xmp.read(target) if can_xmp else {}
        base["prior"] = {"fields": replaced(have, spec), "sidecar_existed": False}
        xmp_ok = can_xmp and self._xmp.matches(target, spec, have=have)
        c2pa_ok = bool(mime and store and declaration_in(store) == spec.declaration()
                       and not integrity_failures(store))
        need_xmp = can_xmp and not xmp_ok
        # XMP written into a signed file breaks its hash, so it must be re-signed after.
        need_c2pa = bool(mime) and (not c2pa_ok or (need_xmp and store is not None))
        if need_xmp and store is not None and not mime:
            raise TagError("carries C2PA; writing XMP without re-signing would break it "
                           "(tag with C2PA, or use --sidecar-only)", given)
        written = tuple(w for w, need in (("xmp", need_xmp), ("c2pa", need_c2pa)) if need)
        if not written:
            return TagResult(**base, outcome=Outcome.UNCHANGED, sha256_after=asset.sha256,
                             reason="our identical declaration is already present")
        if dry_run:
            return TagResult(**base, outcome=Outcome.DRY_RUN, written=written)
        try:
            return self._embed(target, st, fmt, mime, store, spec, need_xmp, need_c2pa, base,
                               written)
        except EmbedRefused as exc:
            return self._sidecar(target, shown, spec, asset.sha256, dry_run,
                                 f"embedding refused ({exc.reason})")

    def _embed(self, target: Path, st: os.stat_result, fmt: str, mime: str | None,
               store: dict[str, Any] | None, spec: TagSpec, need_xmp: bool, need_c2pa: bool,
               base: dict[str, Any], written: tuple[str, ...]) -> TagResult:
        checks: list[str] = []
        # The original's essence is hashed by a subprocess (ffmpeg) or Pillow while the
        # writers run: on a 1 GB video that hides a whole read.
        # Below a few MB a thread costs more than the hash it hides.
        workers = 1 if st.st_size > _PARALLEL_ESSENCE_BYTES else 0
        with _Pool(workers) as pool, Workspace(target) as ws:
            before_job = pool.submit(essence_digest, target, fmt)
            current = target
            if need_xmp:
                current = ws.new()
                self._xmp.write_copy(target, current, spec, fmt)
            if need_c2pa:
                assert mime is not None and self._signer is not None
                signed = ws.new()
                # The untagged original is the parent when there is history to keep, or
                # when "edited" needs something to have been opened.
                parent = target if store is not None or spec.kind is Kind.EDITED else None
                self._signer.sign(current, signed, mime, spec, parent)
                if current != target:
                    current.unlink()
                current = signed
                keep = set((store or {}).get("manifests") or {})
                checks += self._signer.verify(current, mime, spec, keep)
            if fmt in XMP_WRITABLE:
                if not self._xmp.matches(current, spec):
                    raise TagError("written XMP does not read back", target)
                checks.append("xmp-readback")
            after = essence_digest(current, fmt)
            before = before_job.result()
            if before != after:
                raise TagError("media essence changed while tagging; left untouched", target)
            checks.append("essence-unchanged" if before else "essence-unchecked")
            sha_after = sha256_file(current)
            ws.commit(current, target, st)
        return TagResult(**base, outcome=Outcome.WRITTEN, written=written, sha256_after=sha_after,
                         checks=tuple(checks))

    def _sidecar(self, target: Path, shown: str, spec: TagSpec, sha256: str, dry_run: bool,
                 why: str) -> TagResult:
        side = _sidecar.sidecar_path(target)
        existed = side.is_file()
        prior = {"fields": replaced(self._xmp.read(side) if existed else {}, spec),
                 "sidecar_existed": existed}
        base: dict[str, Any] = {"path": shown, "sha256_before": sha256, "sha256_after": sha256,
                "sidecar": str(side), "prior": prior}
        if _sidecar.is_current(self._xmp, target, spec, sha256):
            return TagResult(**base, outcome=Outcome.UNCHANGED,
                             reason="sidecar already holds this declaration")
        if dry_run:
            return TagResult(**base, outcome=Outcome.DRY_RUN, written=("sidecar",), reason=why)
        with Workspace(target) as ws:
            _sidecar.write_sidecar(self._xmp, ws, target, spec, sha256)
        if sha256_file(target) != sha256:
            # Someone rewrote the asset meanwhile: the sidecar describes bytes that are gone.
            with contextlib.suppress(FileNotFoundError):
                side.unlink()
            raise TagError("file changed while being tagged; sidecar removed", target)
        return TagResult(**base, outcome=Outcome.SIDECAR, written=("sidecar",), reason=why,
                         checks=("xmp-readback", "content-hash"))


def tag(path: str | os.PathLike[str], *, kind: Kind | str, tool: str,
        tool_version: str | None = None, purpose: str | None = None,
        risks: Iterable[Risk | str] = (), prompt: str | None = None,
        prompt_writer: str | None = None, sidecar_only: bool = False, dry_run: bool = False,
        c2pa: bool = True, identity: SigningIdentity | None = None,
        trust_anchors_pem: str | None = None) -> TagResult:
    """Tag one file (see the module docstring). Raises only for a missing identity."""
    spec = TagSpec.make(kind, tool, tool_version, purpose, risks, prompt, prompt_writer)
    with Tagger(identity, c2pa=c2pa, trust_anchors_pem=trust_anchors_pem) as tagger:
        return tagger.tag(path, spec, sidecar_only=sidecar_only, dry_run=dry_run)
