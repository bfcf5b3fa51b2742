"""Sign our declaration into a file as C2PA (c2pa-python), keeping any earlier history.

- A file with no C2PA gets one manifest: `c2pa.created` + trainedAlgorithmicMedia for
  generated material; for edited material `c2pa.opened` of the untagged original (a
  parentOf ingredient) + `c2pa.edited` with compositeWithTrainedAlgorithmicMedia.
- A file that already has C2PA is signed with the *original bytes* as an explicit
  parentOf ingredient, so its whole store (any third-party AI claim included) is carried
  into ours. The EDIT intent would take the ingredient from the signing source instead,
  which has our fresh XMP in it and so no longer matches its old manifest's hash.
- Signing is the last write: the signed temp is only read afterwards.
- Thumbnails off (they add ~30 KB to every image and say nothing about provenance).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import c2pa

from provenance.errors import SigningError, TagError
from provenance.formats import MIME_TYPES
from provenance.identity import SigningIdentity
from provenance.memory import soft_binding
from provenance.tagging.spec import (
    TOOL_NAME,
    TOOL_VERSION,
    EmbedRefused,
    Kind,
    TagSpec,
)
from provenance.vocabulary import DECLARATION_LABEL, TRUST_CONFIG, own_output_failures

_SUPPORTED: frozenset[str] | None = None


def supported_mime(fmt: str) -> str | None:
    """The MIME type to sign `fmt` as, or None when c2pa-python cannot embed into it."""
    global _SUPPORTED
    if _SUPPORTED is None:
        _SUPPORTED = frozenset(c2pa.Builder.get_supported_mime_types())
    mime = MIME_TYPES.get(fmt)
    return mime if mime and mime in _SUPPORTED else None


def integrity_failures(store: dict[str, Any]) -> list[str]:
    """The active manifest's failure codes that make a file we signed unacceptable."""
    results = store.get("validation_results") or {}
    failures = (results.get("activeManifest") or {}).get("failure") or []
    return own_output_failures([str(f.get("code", "")) for f in failures])


def _active(store: dict[str, Any]) -> dict[str, Any]:
    return (store.get("manifests") or {}).get(store.get("active_manifest") or "", {})


def assertion_in(store: dict[str, Any], label: str) -> dict[str, Any] | None:
    """The data of the active manifest's assertion labelled `label`, if it has one."""
    for assertion in _active(store).get("assertions", []):
        if assertion.get("label") == label:
            data = assertion.get("data")
            return data if isinstance(data, dict) else None
    return None


def declaration_in(store: dict[str, Any]) -> dict[str, Any] | None:
    return assertion_in(store, DECLARATION_LABEL)


def read_context(anchors_pem: str | None) -> c2pa.Context:
    settings: dict[str, Any] = {"verify": {"remote_manifest_fetch": False}}
    if anchors_pem:
        settings["trust"] = {"trust_anchors": anchors_pem, "trust_config": TRUST_CONFIG}
    return c2pa.Context.from_dict(settings)


def read_store(path: Path, mime: str, anchors_pem: str | None = None) -> dict[str, Any] | None:
    """The manifest store as JSON, or None when the file has none."""
    try:
        with open(path, "rb") as fh:
            reader = c2pa.Reader.try_create(mime, fh, context=read_context(anchors_pem))
            if reader is None:
                return None
            with reader:
                return dict(json.loads(reader.json()))
    except c2pa.C2paError as exc:
        if str(exc).startswith("Remote:"):
            raise TagError("has a remote C2PA manifest we cannot fetch; signing would "
                           "hide it (tag with --sidecar-only)", path) from None
        if "NotSupported" in type(exc).__name__:
            return None
        raise TagError(f"existing C2PA cannot be read: {exc}", path) from None


class C2paSigner:
    """Signs and reads back with one identity; our CA is the trust anchor for checking."""

    def __init__(self, identity: SigningIdentity, extra_anchors_pem: str | None = None) -> None:
        self.identity = identity
        try:
            chain = identity.chain_pem()
        except OSError as exc:
            raise SigningError(f"cannot read certificate chain: {exc.strerror}",
                               identity.chain_path) from None
        self._info = c2pa.C2paSignerInfo(alg=c2pa.C2paSigningAlg.ES256, sign_cert=chain,
                                         private_key=identity.key_pem(), ta_url=None)
        anchors = [extra_anchors_pem] if extra_anchors_pem else []
        if identity.ca_path is not None and identity.ca_path.is_file():
            anchors.append(identity.ca_path.read_text())
        self.anchors_pem = "\n".join(anchors) or None
        # Only a chain we made ourselves can be required to read trusted; an external
        # --cert may chain to a CA this configuration does not list.
        self.require_trust = identity.ca_path is not None

    def read(self, path: Path, mime: str) -> dict[str, Any] | None:
        return read_store(path, mime, self.anchors_pem)

    def sign(self, source: Path, dest: Path, mime: str, spec: TagSpec,
             parent: Path | None) -> None:
        """Sign `source` into the new file `dest`; `parent` (the original) becomes parentOf."""
        agent = spec.software_agent()
        actions: list[dict[str, Any]]
        if parent is None:
            actions = [{"action": "c2pa.created", "digitalSourceType": spec.kind.source_type,
                        "softwareAgent": agent}]
        elif spec.kind is Kind.GENERATED:
            actions = [{"action": "c2pa.opened", "digitalSourceType": spec.kind.source_type,
                        "softwareAgent": agent, "parameters": {"ingredientIds": ["parent"]}}]
        else:
            actions = [{"action": "c2pa.opened", "parameters": {"ingredientIds": ["parent"]}},
                       {"action": "c2pa.edited", "digitalSourceType": spec.kind.source_type,
                        "softwareAgent": agent}]
        # The perceptual fingerprint travels too, so a stripped copy can be recovered (issue 11).
        soft = soft_binding.for_file(source)
        self.sign_assertions(source, dest, mime, actions,
                             [{"label": DECLARATION_LABEL, "data": spec.declaration()},
                              *([soft] if soft else [])], parent)

    def sign_assertions(self, source: Path, dest: Path, mime: str, actions: list[dict[str, Any]],
                        assertions: list[dict[str, Any]], parent: Path | None) -> None:
        """Sign `source` into `dest` with these actions and assertions; `parent` (the original
        bytes, label "parent") becomes the parentOf ingredient that carries its whole store."""
        title = source.name.encode("utf-8", "replace").decode("utf-8")
        manifest = {
            "claim_generator_info": [{"name": TOOL_NAME, "version": TOOL_VERSION}],
            "title": title,
            "assertions": [{"label": "c2pa.actions.v2", "data": {"actions": actions}},
                           *assertions],
        }
        build_ctx = c2pa.Context.from_dict({"builder": {"thumbnail": {"enabled": False}},
                                            "verify": {"remote_manifest_fetch": False}})
        try:
            signer = c2pa.Signer.from_info(self._info)
            with c2pa.Builder(manifest, context=build_ctx) as builder:
                if parent is not None:
                    with open(parent, "rb") as pf:
                        builder.add_ingredient({"title": parent.name.encode("utf-8", "replace")
                                                .decode("utf-8"), "relationship": "parentOf",
                                                "label": "parent"}, mime, pf)
                with open(source, "rb") as src, open(dest, "w+b") as dst:
                    builder.sign(signer, mime, src, dst)
        except c2pa.C2paError as exc:
            text = str(exc)
            if "Signature" in type(exc).__name__ or "certificate" in text.lower():
                raise SigningError(f"the C2PA signer refused the identity: {text}",
                                   self.identity.chain_path) from None
            raise EmbedRefused(f"C2PA signing failed: {text}", source) from None

    def verify(self, path: Path, mime: str, spec: TagSpec, keep_labels: set[str]) -> list[str]:
        """Re-read a signed temp; return what was proved, or raise naming the failure."""
        store, checks = self.check_signed(path, mime, keep_labels)
        if declaration_in(store) != spec.declaration():
            raise TagError("signed output lacks our declaration", path)
        return checks

    def check_signed(self, path: Path, mime: str,
                     keep_labels: set[str]) -> tuple[dict[str, Any], list[str]]:
        """Re-read a file we signed: it validates, chains to our CA, and kept `keep_labels`.

        Returns the store and what was proved, or raises TagError naming the failure.
        """
        store = self.read(path, mime)
        if store is None:
            raise TagError("signed output has no C2PA manifest", path)
        bad = integrity_failures(store)
        if bad:
            raise TagError(f"signed output does not validate: {', '.join(bad)}", path)
        checks = ["c2pa-integrity"]
        if self.require_trust:
            active = (store.get("validation_results") or {}).get("activeManifest") or {}
            codes = {f.get("code") for f in active.get("failure") or []}
            if codes & {"signingCredential.untrusted", "signingCredential.invalid",
                        "signingCredential.expired"}:
                raise TagError(f"our signature does not chain to our CA: {sorted(codes)}", path)
            checks.append("c2pa-trusted")
        lost = keep_labels - set(store.get("manifests") or {})
        if lost:
            raise TagError(f"signing would drop earlier manifests: {sorted(lost)}", path)
        if keep_labels:
            checks.append(f"c2pa-history-kept:{len(keep_labels)}")
        return store, checks
