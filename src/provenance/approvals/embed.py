"""`approve --embed`: write the approval into the asset's own C2PA manifest, history kept.

Embedding changes the file's bytes, and an approval is bound to exact bytes, so the order is:
hash the current bytes (BEFORE) → sign a new C2PA manifest into a temp beside the file →
verify the temp → fsync → rename over the original (mode kept) → hash the FINAL bytes, which
the caller then signs the DSSE approval over, as for any approval.

History is kept the way `tagging` keeps it: the original bytes are an explicit parentOf
ingredient, so the whole earlier store (any third-party AI claim included) is carried into
ours. Our manifest has `c2pa.opened` (the parent) + `c2pa.published` and a custom assertion
`org.provenance-tool.approval`. The embedded copy is informational only: it cannot bind to
the bytes that contain it, and the gate never reads it as an approval.

Formats C2PA cannot be embedded into (EXR, DPX, MXF, MKV, …) are skipped with a note; the
approval is still recorded beside the file and in the ledger.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from provenance.approvals.statement import format_time
from provenance.config import Config
from provenance.errors import ApprovalError, SigningError, TagError
from provenance.identify import identify, key_of, sha256_file
from provenance.identity import SigningIdentity
from provenance.model import Classification
from provenance.pipeline import Inspector
from provenance.tagging import SIDECAR_FORMATS
from provenance.tagging.atomic import Workspace, clean_stale_temps, is_temp_name
from provenance.tagging.c2pa_sign import (
    C2paSigner,
    assertion_in,
    read_store,
    supported_mime,
)
from provenance.tagging.essence import essence_digest
from provenance.tagging.spec import TOOL_NAME, TOOL_VERSION

APPROVAL_LABEL = "org.provenance-tool.approval"
# Evidence carried in the file itself: a sidecar beside the original is not beside the temp.
_IN_FILE_READERS = ("c2pa", "metadata")


@dataclass(frozen=True)
class EmbedResult:
    embedded: bool
    sha256_before: str
    sha256_after: str
    note: str | None = None
    checks: tuple[str, ...] = ()


def approval_assertion(*, approver: str, email: str, scopes: Iterable[str], reference: str,
                       issued_at: dt.datetime, expires_at: dt.datetime | None,
                       note: str) -> dict[str, Any]:
    """The data of the `org.provenance-tool.approval` assertion; `embed_approval` adds the
    sha256 of the bytes it embedded into (`subject_sha256_before_embed`)."""
    return {
        "approver": approver,
        "email": email,
        "scopes": sorted(scopes),
        "reference": reference.strip(),
        "issued_at": format_time(issued_at),
        "expires_at": format_time(expires_at) if expires_at else None,
        "note": note,
    }


def no_identity_message(where: Path) -> str:
    return (f"--embed needs the production's C2PA signing identity and there is none in {where}: "
            "run `provenance signer init` (or approve without --embed); nothing written")


def _read_only(st: os.stat_result, path: Path) -> bool:
    return not (st.st_mode & 0o222) or not os.access(path, os.W_OK)


def _in_file_class(inspector: Inspector, path: Path) -> Classification:
    verdict = inspector.inspect(path)
    if verdict.errors:
        raise TagError(f"cannot be judged: {'; '.join(verdict.errors)}", path)
    return verdict.classification


def embed_approval(path: Path, config: Config, assertion: dict[str, Any]) -> EmbedResult:
    """Embed `assertion` (from `approval_assertion`) into `path`'s C2PA manifest store.

    Returns the hashes before and after; raises a ProvenanceError naming the reason when the
    file cannot be embedded into safely, leaving it untouched.
    """
    if is_temp_name(path.name):
        raise TagError("a provenance temporary file, not an asset; skipped", path)
    # Write into the file a symlink points at, and keep the link a link.
    target = Path(os.path.realpath(path)) if path.is_symlink() else path
    if not target.is_file():
        raise ApprovalError("not a regular file (approve names files; use a shell glob for a folder)", path)
    st = os.stat(target)
    asset = identify(target)
    if key_of(os.stat(target)) != key_of(st):
        raise ApprovalError("file changed while it was being hashed; approve it once it is final", path)
    before = asset.sha256
    mime = supported_mime(asset.format)
    if mime is None or asset.format in SIDECAR_FORMATS:
        return EmbedResult(False, before, before,
                           note=f"cannot embed in {asset.format}; approval recorded beside the file "
                                "and in the ledger")
    if _read_only(st, target):
        raise TagError("file is read-only; --embed left it untouched and approved nothing "
                       "(approve without --embed)", path)
    if not os.access(target.parent, os.W_OK | os.X_OK):
        raise TagError("folder is not writable; --embed wrote nothing", path)
    identity = SigningIdentity.in_dir(config.signing_identity_dir)
    if identity is None:
        raise SigningError(no_identity_message(config.signing_identity_dir), path)

    data = {**assertion, "subject_sha256_before_embed": before}
    signer = C2paSigner(identity, config.trust_anchors_pem())
    clean_stale_temps(target.parent)
    store = read_store(target, mime, signer.anchors_pem)
    keep = set((store or {}).get("manifests") or {})
    actions = [
        {"action": "c2pa.opened", "parameters": {"ingredientIds": ["parent"]}},
        {"action": "c2pa.published", "softwareAgent": {"name": TOOL_NAME, "version": TOOL_VERSION}},
    ]
    with Inspector(config.reader_settings(), readers=_IN_FILE_READERS) as inspector, \
            Workspace(target) as ws:
        was = _in_file_class(inspector, target)
        essence_before = essence_digest(target, asset.format)
        signed = ws.new()
        signer.sign_assertions(target, signed, mime, actions,
                               [{"label": APPROVAL_LABEL, "data": data}], parent=target)
        checks = _verify(signer, signed, mime, data, keep)
        now = _in_file_class(inspector, signed)
        if now != was:
            raise TagError(f"embedding would change the classification ({was} → {now}); "
                           "left untouched", path)
        checks.append("classification-unchanged")
        if essence_digest(signed, asset.format) != essence_before:
            raise TagError("media essence changed while embedding; left untouched", path)
        checks.append("essence-unchanged" if essence_before else "essence-unchecked")
        after = sha256_file(signed)
        ws.commit(signed, target, st)
    return EmbedResult(True, before, after, checks=tuple(checks))


def _verify(signer: C2paSigner, path: Path, mime: str, data: dict[str, Any],
            keep: set[str]) -> list[str]:
    store, checks = signer.check_signed(path, mime, keep)
    if assertion_in(store, APPROVAL_LABEL) != data:
        raise TagError("signed output lacks the approval assertion", path)
    if len(store.get("manifests") or {}) != len(keep) + 1:
        raise TagError("signed output does not hold exactly one new manifest", path)
    return checks
