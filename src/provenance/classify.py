"""Evidence → classification. No I/O, no file formats: only the signals readers found.

Order (DESIGN.md, corpus labels): an AI signal anywhere wins (an untrusted or expired
certificate does not erase an AI claim); among AI signals, C2PA's judgement of its own
manifest chain comes first, then tags; positive capture/human provenance with no AI
signal anywhere is `not_ai`; everything else is `unknown`.
"""

from __future__ import annotations

from collections.abc import Sequence

from provenance.model import Classification, Evidence, Signal

_AI = {Signal.AI_GENERATED: Classification.AI_GENERATED, Signal.AI_EDITED: Classification.AI_EDITED}


def classify(evidence: Sequence[Evidence]) -> Classification:
    ai = [e for e in evidence if e.signal in _AI]
    if ai:
        c2pa = [e for e in ai if e.source == "c2pa"]
        decisive = c2pa or ai
        if any(e.signal is Signal.AI_GENERATED for e in decisive) and not any(
            e.signal is Signal.AI_EDITED for e in c2pa
        ):
            return Classification.AI_GENERATED
        if any(e.signal is Signal.AI_EDITED for e in decisive):
            return Classification.AI_EDITED
        return Classification.AI_GENERATED
    if any(e.signal is Signal.CAPTURE for e in evidence):
        return Classification.NOT_AI
    return Classification.UNKNOWN


def pick_generator(evidence: Sequence[Evidence]) -> str | None:
    """The tool the strongest AI evidence names, else any named tool."""
    for wanted in (set(_AI), {Signal.DECLARATION}, set(Signal)):
        for e in evidence:
            if e.generator and e.signal in wanted:
                return e.generator
    return None
