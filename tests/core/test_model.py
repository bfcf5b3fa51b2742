"""Values that round-trip: `from_dict(to_dict(v)) == v` for every value with a `to_dict`,
built fully populated (every field away from its default), also through JSON as the gate
cache and the ledger store them. A decoder that drops or defaults a field fails here."""

from __future__ import annotations

import dataclasses
import inspect
import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from provenance import model
from provenance.model import (
    C2paSummary,
    Classification,
    Declarations,
    Evidence,
    Finding,
    ManifestInfo,
    Recollection,
    Risk,
    Scope,
    Signal,
    Verdict,
)

text = st.text(min_size=1, max_size=12)


def some(element: st.SearchStrategy[Any]) -> st.SearchStrategy[tuple[Any, ...]]:
    return st.lists(element, min_size=1, max_size=3).map(tuple)


evidence = st.builds(Evidence, source=text, field=text, value=text,
                     signal=st.sampled_from([s for s in Signal if s is not Signal.INFO]),
                     generator=text, manifest=text)
manifests = st.builds(ManifestInfo, label=text, active=st.just(True), claim_generator=text, issuer=text,
                      common_name=text, signed_at=text, actions=some(text))
c2pa = st.builds(C2paSummary, present=st.just(True), integrity=text, trust=text, manifests=some(manifests),
                 codes=some(text), remote_url=text, sidecar=text)
declarations = st.builds(Declarations, tool=text, tool_version=text, purpose=text,
                         risks=st.frozensets(st.sampled_from(Risk), min_size=1))
recollections = st.builds(Recollection, source=text, statement=text)
verdicts = st.builds(Verdict, path=text, sha256=text, format=text, size=st.integers(0, 2**62),
                     classification=st.sampled_from(Classification), evidence=some(evidence), c2pa=c2pa,
                     declarations=declarations, errors=some(text), generator=text, link_target=text,
                     recollections=some(recollections))
findings = st.builds(Finding, rule=text, principle=text, path=text, sha256=text,
                     classification=st.sampled_from(Classification), message=text,
                     clears_with=some(st.sampled_from(Scope)), blocking=st.just(False))

STRATEGIES: dict[type[Any], st.SearchStrategy[Any]] = {
    Evidence: evidence, ManifestInfo: manifests, C2paSummary: c2pa, Declarations: declarations,
    Recollection: recollections, Verdict: verdicts, Finding: findings,
}


def assert_fully_populated(value: Any) -> None:
    """Every field differs from its default, so a decoder that falls back to one is caught."""
    for f in dataclasses.fields(value):
        got = getattr(value, f.name)
        if f.default is not dataclasses.MISSING:
            assert got != f.default, f"{type(value).__name__}.{f.name} left at its default"
        elif f.default_factory is not dataclasses.MISSING:
            assert got != f.default_factory(), f"{type(value).__name__}.{f.name} left at its default"
        if dataclasses.is_dataclass(got):
            assert_fully_populated(got)


def test_every_value_with_to_dict_has_from_dict_and_a_strategy_here() -> None:
    with_to_dict = {cls for _, cls in inspect.getmembers(model, inspect.isclass)
                    if cls.__module__ == model.__name__ and "to_dict" in vars(cls)}
    assert with_to_dict == set(STRATEGIES)
    for cls in with_to_dict:
        assert "from_dict" in vars(cls), f"{cls.__name__} has to_dict but no from_dict"


@given(st.one_of(*STRATEGIES.values()))
def test_from_dict_inverts_to_dict_also_through_json(value: Any) -> None:
    assert_fully_populated(value)
    cls = type(value)
    assert cls.from_dict(value.to_dict()) == value
    assert cls.from_dict(json.loads(json.dumps(value.to_dict()))) == value
