"""A tag never lowers what a file's own evidence says.

`tag --edited` on an A1111 PNG (whose own parameters say `ai_generated`) would write
`compositeWithTrainedAlgorithmicMedia` beside them; the file would still classify as
generated (an AI-generated signal wins), but the declaration, the ledger's memory of the
tag and every report would say "edited": a lower class, on the artist's word, for bytes
whose own evidence says more. So the request is refused, never quietly raised to
`--generated`: raising would sign a declaration the artist did not make, and the artist is
the one who knows which tool made what. Exit 1 (a finding about the file, not a usage error
and not an undecided read): nothing was written, and the message says what to do instead.
"""

from __future__ import annotations

from provenance.model import Classification, Evidence, Signal, Verdict
from provenance.tagging.spec import Kind

_RANK = {Classification.AI_GENERATED: 2, Classification.AI_EDITED: 1}


def _shown(e: Evidence) -> str:
    what = f"{e.source} {e.field}"
    return f"{what} ({e.generator})" if e.generator else what


def lowering(verdict: Verdict, kind: Kind) -> str | None:
    """Why tagging this file as `kind` would lower its own class, or None when it would not."""
    have = _RANK.get(verdict.classification, 0)
    if _RANK[kind.classification] >= have:
        return None
    strongest = next((e for e in verdict.evidence if e.signal is Signal.AI_GENERATED), None)
    because = f" ({_shown(strongest)})" if strongest else ""
    return (f"its own evidence says {verdict.classification}{because}; --{kind} would lower it "
            f"to {kind.classification}: tag it --generated (if an earlier `provenance tag` "
            "was the mistake, `provenance untag` it first)")
