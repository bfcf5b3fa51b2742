"""Small builders for verdicts and findings used by the ledger tests."""

from __future__ import annotations

import hashlib

from provenance.model import Classification, Evidence, Finding, Scope, Signal, Verdict


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def ai_verdict(path: str, digest: str, source: str = "sidecar", generator: str | None = "Firefly",
               classification: Classification = Classification.AI_GENERATED) -> Verdict:
    signal = Signal.AI_GENERATED if classification is Classification.AI_GENERATED else Signal.AI_EDITED
    ev = Evidence(source, "Iptc4xmpExt:DigitalSourceType", "trainedAlgorithmicMedia", signal, generator)
    return Verdict(path=path, sha256=digest, format="exr", size=100, classification=classification,
                   evidence=(ev,), generator=generator)


def plain_verdict(path: str, digest: str | None,
                  classification: Classification = Classification.UNKNOWN) -> Verdict:
    return Verdict(path=path, sha256=digest, format="jpeg", size=10 if digest else None,
                   classification=classification,
                   errors=() if digest else ("cannot read: permission denied",))


def finding(path: str, digest: str, rule: str = "temporary-material") -> Finding:
    return Finding(rule=rule, principle="generated material is temporary", path=path, sha256=digest,
                   classification=Classification.AI_GENERATED, message="AI asset in final/",
                   clears_with=(Scope.FINAL_DELIVERABLE,))
