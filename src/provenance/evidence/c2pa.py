"""C2PA reader: c2pa-python over every manifest in the store, judged as one chain.

The reader walks the active manifest, its `parentOf` chain and every other manifest
(componentOf / inputTo ingredients), and emits the chain's conclusion as ONE piece of
evidence with an AI or CAPTURE signal (corpus/README.md "How the labels were set", rule 1):

1. a composite AI source type (`compositeWithTrainedAlgorithmicMedia`, `compositeSynthetic`)
   anywhere in the store → ai_edited;
2. an AI creation (`c2pa.created`/`c2pa.opened` with an AI source type, the
   `com.adobe.generative-ai` assertion, or Bing's DST-less "Image Creator from Designer" /
   "AI Generated Image") on the asset's own parentOf chain → ai_generated — even when a later
   edit on that chain also carries an AI type (Google's SynthID watermark edit, corpus d08);
3. an AI source type on an edit action of an asset that was not AI-created, or AI content only
   in a component/input ingredient (Premiere + Firefly, corpus d19) → ai_edited;
4. a readable store with no AI signal anywhere → capture/human provenance.

Validity never erases a claim: an expired or untrusted certificate, even a hash mismatch,
still leaves the claim standing; integrity and trust are reported beside it in C2paSummary.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import c2pa

from provenance import sidecars
from provenance._os import open_regular, read_regular
from provenance.evidence import ReaderOutput, ReaderSettings
from provenance.formats import MIME_TYPES
from provenance.memory import soft_binding
from provenance.model import (
    Asset,
    C2paSummary,
    Declarations,
    Evidence,
    ManifestInfo,
    Risk,
    Signal,
)
from provenance.vocabulary import (
    ACTIONS_LABELS,
    AI_COMPOSITE_TYPES,
    AI_GENERATED_TYPES,
    DECLARATION_LABEL,
    TRUST_CONFIG,
    dst_term,
    is_integrity_code,
)
from provenance.vocabulary import INCEPTION_ACTIONS as INCEPTION

GENAI_VENDOR_ASSERTION = "com.adobe.generative-ai"
BING_AGENT = "image creator from designer"
BING_DESCRIPTION = "ai generated image"


def _agent_name(agent: object) -> str | None:
    if isinstance(agent, str):
        return agent or None
    if isinstance(agent, dict):
        name, version = agent.get("name"), agent.get("version")
        if not name:
            return None
        return f"{name} {version}" if version else str(name)
    return None


def _claim_generator(m: dict[str, Any]) -> str | None:
    if isinstance(m.get("claim_generator"), str):
        return m["claim_generator"]
    info = m.get("claim_generator_info")
    if isinstance(info, dict):
        info = [info]
    if isinstance(info, list):
        for item in info:
            if isinstance(item, dict) and item.get("name"):
                version = item.get("version")
                return f"{item['name']} {version}" if version else str(item["name"])
    return None


@dataclass(frozen=True)
class _Action:
    name: str
    dst: str | None
    agent: str | None
    description: str | None

    def __str__(self) -> str:
        parts = [self.name]
        if self.dst:
            parts.append(self.dst)
        if self.agent:
            parts.append(f"by {self.agent}")
        if self.description:
            parts.append(f"({self.description})")
        return " ".join(parts)


@dataclass
class _Manifest:
    label: str
    data: dict[str, Any]
    actions: list[_Action] = field(default_factory=list)
    assertion_labels: list[str] = field(default_factory=list)

    @property
    def generator(self) -> str | None:
        return _claim_generator(self.data)

    def ingredients(self) -> Iterator[dict[str, Any]]:
        for ing in self.data.get("ingredients") or ():
            if isinstance(ing, dict):
                yield ing

    def ai_creation(self) -> tuple[str, str | None] | None:
        """(what, tool) when this manifest records an AI creation."""
        for act in self.actions:
            if act.name in INCEPTION and act.dst in AI_GENERATED_TYPES:
                return str(act), act.agent
        if GENAI_VENDOR_ASSERTION in self.assertion_labels:
            return f"assertion {GENAI_VENDOR_ASSERTION}", self.generator
        for act in self.actions:
            # Bing Image Creator (2024) declares AI only in words, with no source type.
            if (act.dst is None and (act.agent or "").strip().lower() == BING_AGENT
                    and (act.description or "").strip().lower() == BING_DESCRIPTION):
                return str(act), act.agent
        return None

    def ai_edit(self) -> _Action | None:
        for act in self.actions:
            if act.name not in INCEPTION and act.dst in AI_GENERATED_TYPES:
                return act
        return None

    def composite(self) -> _Action | None:
        for act in self.actions:
            if act.dst in AI_COMPOSITE_TYPES:
                return act
        return None


def _parse_manifest(label: str, data: dict[str, Any]) -> _Manifest:
    m = _Manifest(label=label, data=data)
    for assertion in data.get("assertions") or ():
        if not isinstance(assertion, dict):
            continue
        a_label = str(assertion.get("label", ""))
        m.assertion_labels.append(a_label)
        if a_label.split("__")[0] not in ACTIONS_LABELS:
            continue
        body = assertion.get("data") or {}
        for act in body.get("actions") or () if isinstance(body, dict) else ():
            if not isinstance(act, dict):
                continue
            params = act.get("parameters")
            params = params if isinstance(params, dict) else {}
            dst = dst_term(act.get("digitalSourceType")) or dst_term(
                params.get("com.adobe.digitalSourceType")) or dst_term(params.get("digitalSourceType"))
            description = act.get("description") or params.get("description")
            m.actions.append(_Action(
                name=str(act.get("action", "")),
                dst=dst,
                agent=_agent_name(act.get("softwareAgent")),
                description=str(description) if description else None,
            ))
    return m


@dataclass(frozen=True)
class Judgement:
    signal: Signal
    field: str
    value: str
    generator: str | None
    manifest: str | None


def judge_store(store: dict[str, Any]) -> Judgement:
    """Judge a whole manifest store (the dict of `Reader.json()`), per the module rules."""
    raw = store.get("manifests") or {}
    manifests = {label: _parse_manifest(label, data) for label, data in raw.items()
                 if isinstance(data, dict)}
    active = store.get("active_manifest")

    # The asset's own history: the active manifest and its parentOf ancestors.
    own: list[_Manifest] = []
    own_ingredient_dsts: list[tuple[str, str]] = []  # (dst, manifest label) on parentOf ingredients
    seen: set[str] = set()
    queue: list[str] = [active] if isinstance(active, str) and active in manifests else []
    while queue:
        label = queue.pop(0)
        if label in seen:
            continue
        seen.add(label)
        own.append(manifests[label])
        for ing in manifests[label].ingredients():
            if ing.get("relationship") != "parentOf":
                continue
            term = dst_term(ing.get("digitalSourceType"))
            if term:
                own_ingredient_dsts.append((term, label))
            child = ing.get("active_manifest")
            if isinstance(child, str) and child in manifests:
                queue.append(child)
    others = [m for label, m in manifests.items() if label not in seen]
    other_ingredient_dsts = [
        (term, m.label)
        for m in manifests.values()
        for ing in m.ingredients()
        if ing.get("relationship") != "parentOf" and (term := dst_term(ing.get("digitalSourceType")))
    ]

    everything = [*own, *others]
    for m in everything:
        act = m.composite()
        if act is not None:
            return Judgement(Signal.AI_EDITED, "c2pa.actions", str(act), act.agent or m.generator,
                             m.label)
    for term, label in [*own_ingredient_dsts, *other_ingredient_dsts]:
        if term in AI_COMPOSITE_TYPES:
            return Judgement(Signal.AI_EDITED, "ingredient.digitalSourceType", term,
                             manifests[label].generator, label)
    for m in own:
        created = m.ai_creation()
        if created is not None:
            what, tool = created
            return Judgement(Signal.AI_GENERATED, "c2pa.actions", what, tool or m.generator,
                             m.label)
    for term, label in own_ingredient_dsts:
        if term in AI_GENERATED_TYPES:
            return Judgement(Signal.AI_GENERATED, "ingredient.digitalSourceType", term,
                             manifests[label].generator, label)
    for m in own:
        edit = m.ai_edit()
        if edit is not None:
            return Judgement(Signal.AI_EDITED, "c2pa.actions", str(edit),
                             edit.agent or m.generator, m.label)
    for m in others:
        found = m.ai_creation() or ((str(e), e.agent) if (e := m.ai_edit()) else None)
        if found is not None:
            what, tool = found
            return Judgement(Signal.AI_EDITED, "c2pa.ingredient",
                             f"AI component: {what}", tool or m.generator, m.label)
    for term, label in other_ingredient_dsts:
        if term in AI_GENERATED_TYPES:
            return Judgement(Signal.AI_EDITED, "ingredient.digitalSourceType",
                             f"AI component: {term}", manifests[label].generator, label)
    described = "; ".join(str(a) for m in own for a in m.actions) or "no actions"
    top = own[0] if own else None
    return Judgement(Signal.CAPTURE, "c2pa.manifest",
                     f"C2PA provenance with no AI signal in any manifest ({described})",
                     top.generator if top else None, top.label if top else None)


def _failure_codes(results: dict[str, Any]) -> tuple[list[str], list[str]]:
    """(active manifest failure codes, ingredient delta failure codes)."""
    def codes(entries: Iterable[Any]) -> list[str]:
        return [str(e["code"]) for e in entries if isinstance(e, dict) and "code" in e]

    active = codes((results.get("activeManifest") or {}).get("failure") or ())
    deltas: list[str] = []
    for delta in results.get("ingredientDeltas") or ():
        if isinstance(delta, dict):
            deltas += codes((delta.get("validationDeltas") or {}).get("failure") or ())
    return active, deltas


def summarise(store: dict[str, Any], sidecar: str | None = None) -> C2paSummary:
    results = store.get("validation_results") or {}
    active_codes, delta_codes = _failure_codes(results)
    if not results:  # older shape: a flat validation_status list
        active_codes = [str(s.get("code")) for s in store.get("validation_status") or ()
                        if isinstance(s, dict)]
    all_codes = list(dict.fromkeys([*active_codes, *delta_codes]))
    integrity = "tampered" if any(is_integrity_code(c) for c in all_codes) else "ok"
    if "signingCredential.invalid" in active_codes or "signingCredential.revoked" in active_codes:
        trust = "invalid"
    elif "signingCredential.expired" in active_codes:
        trust = "expired"
    elif store.get("validation_state") == "Trusted":
        trust = "trusted"
    else:
        trust = "untrusted"
    active = store.get("active_manifest")
    infos = []
    for label, data in (store.get("manifests") or {}).items():
        if not isinstance(data, dict):
            continue
        m = _parse_manifest(label, data)
        sig = data.get("signature_info") or {}
        infos.append(ManifestInfo(
            label=label,
            active=label == active,
            claim_generator=m.generator,
            issuer=sig.get("issuer"),
            common_name=sig.get("common_name"),
            signed_at=sig.get("time"),
            actions=tuple(str(a) for a in m.actions),
        ))
    infos.sort(key=lambda i: not i.active)
    return C2paSummary(present=True, integrity=integrity, trust=trust, manifests=tuple(infos),
                       codes=tuple(all_codes), sidecar=sidecar)


def read_declaration(store: dict[str, Any]) -> Declarations | None:
    """Our own `org.provenance-tool.declaration` assertion, from the active manifest first."""
    manifests = store.get("manifests") or {}
    active = store.get("active_manifest")
    order = [active, *(label for label in manifests if label != active)]
    for label in order:
        data = manifests.get(label)
        if not isinstance(data, dict):
            continue
        for assertion in data.get("assertions") or ():
            if isinstance(assertion, dict) and assertion.get("label") == DECLARATION_LABEL:
                body = assertion.get("data") or {}
                tool = body.get("tool")
                tool = tool if isinstance(tool, dict) else {}
                risks = frozenset(Risk(r) for r in body.get("risks") or ()
                                  if r in {x.value for x in Risk})
                return Declarations(tool=tool.get("name"), tool_version=tool.get("version"),
                                    purpose=body.get("purpose"), risks=risks)
    return None


def sidecar_for(path: Path) -> Path | None:
    """`clip.mxf.c2pa` (preferred, unambiguous) or `clip.c2pa` beside the asset."""
    for candidate in sidecars.candidates(path, sidecars.C2PA):
        if os.path.isfile(candidate):
            return Path(candidate)
    return None


class C2paReader:
    name = "c2pa"

    def __init__(self, settings: ReaderSettings) -> None:
        config: dict[str, Any] = {
            "verify": {"remote_manifest_fetch": False},
            "trust": {"trust_config": TRUST_CONFIG},
        }
        if settings.trust_anchors_pem:
            config["trust"]["trust_anchors"] = settings.trust_anchors_pem
        # One Context per reader: c2pa objects must not be shared across threads.
        self._context = c2pa.Context.from_dict(config)

    def close(self) -> None:
        close = getattr(self._context, "close", None)
        if callable(close):
            close()

    def _open(self, asset: Asset, mime: str, manifest_data: bytes | None) -> dict[str, Any] | None:
        with open_regular(asset.path) as fh:
            reader = c2pa.Reader.try_create(mime, fh, manifest_data=manifest_data,
                                            context=self._context)
            if reader is None:
                return None
            with reader:
                return json.loads(reader.json())  # type: ignore[no-any-return, unused-ignore]

    def has_work(self, asset: Asset) -> bool:
        return asset.format in MIME_TYPES  # no container we know: nothing c2pa could open

    def read(self, asset: Asset) -> ReaderOutput:
        out = ReaderOutput()
        mime = MIME_TYPES.get(asset.format)
        sidecar = sidecar_for(asset.path)
        store: dict[str, Any] | None = None
        used_sidecar: str | None = None
        try:
            if mime is not None:
                try:
                    store = self._open(asset, mime, None)
                except c2pa.C2paError.NotSupported:
                    store = None
                if store is None and sidecar is not None:
                    store = self._open(asset, mime, read_regular(sidecar))
                    used_sidecar = str(sidecar)
        except c2pa.C2paError.NotSupported:
            return out  # EXR, DPX, MXF...: nothing can embed C2PA there; not an error
        except c2pa.C2paError as exc:
            text = str(exc)
            if "Remote:" in text:
                url = _url(text)
                out.evidence.append(Evidence("c2pa", "remote_manifest", url or text, Signal.REMOTE))
                out.c2pa = C2paSummary(present=False, remote_url=url)
                return out
            out.errors.append(f"unreadable C2PA data: {text or type(exc).__name__}")
            return out
        except OSError as exc:
            out.errors.append(f"cannot read: {exc.strerror or exc}")
            return out
        if store is None:
            return out
        out.c2pa = summarise(store, sidecar=used_sidecar)
        judgement = judge_store(store)
        out.evidence.append(Evidence("c2pa", judgement.field, judgement.value, judgement.signal,
                                     judgement.generator, judgement.manifest))
        for info in out.c2pa.manifests:
            role = "active" if info.active else "ingredient"
            if info.claim_generator:
                out.evidence.append(Evidence("c2pa", f"{role}.claim_generator",
                                             info.claim_generator, manifest=info.label))
            if info.issuer or info.common_name:
                out.evidence.append(Evidence(
                    "c2pa", f"{role}.signer",
                    " / ".join(x for x in (info.issuer, info.common_name) if x),
                    manifest=info.label))
            if info.actions:
                out.evidence.append(Evidence("c2pa", f"{role}.actions", "; ".join(info.actions),
                                             manifest=info.label))
        declared = read_declaration(store)
        if declared is not None:
            out.declarations = declared
            out.evidence.append(Evidence(
                "c2pa", DECLARATION_LABEL,
                f"tool={declared.tool or '?'} purpose={declared.purpose or '?'} "
                f"risks={','.join(sorted(declared.risks)) or 'none'}",
                Signal.DECLARATION, declared.tool))
        bound = soft_binding.in_store(store)
        if bound:  # the pictures the manifests say these bytes (or their ingredients) show: memory
            out.evidence.append(Evidence("c2pa", soft_binding.LABEL, soft_binding.encode_codes(bound)))
        return out


def _url(text: str) -> str | None:
    m = re.search(r"https?://\S+", text)
    return m.group(0).rstrip(".,;)") if m else None
