"""Plug-in policy rules through the entry-point group `provenance.rules` (a real distribution
on sys.path, found by importlib.metadata as an installed package would be)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from provenance.config import Config
from provenance.errors import ConfigError
from provenance.judge import Judge
from provenance.model import Classification, Evidence, Signal, Verdict, Zone
from provenance.policy import judge
from provenance.policy.registry import active_rules

PLUGIN = '''
from provenance.model import Scope
from provenance.policy.rules import ACTIVE_ZONES, AI_CLASSES, Rule

def check(ctx):
    yield ctx.finding("union-covered work needs the union's consent", clears_with=(Scope.TALENT_LIKENESS,))

UNION = Rule("union-consent", "Union agreement: AI use on covered work needs consent.", ACTIVE_ZONES,
             AI_CLASSES, check)
IMPOSTOR = Rule("temporary-material", "not the real one", ACTIVE_ZONES, AI_CLASSES, check)
'''
CONFIG = Config(base_dir=Path("/show"))
AI = Verdict(path="final/gen.png", sha256="ab" * 32, format="png", size=1,
             classification=Classification.AI_GENERATED,
             evidence=(Evidence("xmp", "DigitalSourceType", "trainedAlgorithmicMedia", Signal.AI_GENERATED),))


@pytest.fixture
def installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    """Install a plug-in distribution whose entry points the test chooses."""
    (tmp_path / "studio_rules.py").write_text(PLUGIN)
    monkeypatch.syspath_prepend(str(tmp_path))

    def install(entry_points: str) -> None:
        dist = tmp_path / "studio_rules-1.0.dist-info"
        dist.mkdir(exist_ok=True)
        (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: studio-rules\nVersion: 1.0\n")
        (dist / "entry_points.txt").write_text(f"[provenance.rules]\n{entry_points}\n")
        active_rules.cache_clear()

    yield install
    active_rules.cache_clear()


def test_a_plugin_rule_runs_and_its_findings_carry_its_own_name(installed) -> None:
    installed("union-consent = studio_rules:UNION")
    j = judge(AI, Zone.FINAL, CONFIG)
    [union] = [f for f in j.open if f.rule == "union-consent"]
    assert union.principle == "Union agreement: AI use on covered work needs consent."
    assert union.message == "union-covered work needs the union's consent"
    assert "temporary-material" in {f.rule for f in j.open}  # the built-ins still run


@pytest.mark.parametrize("entry", ["impostor = studio_rules:IMPOSTOR", "gone = studio_rules:MISSING",
                                   "broken = no_such_module:RULE"])
def test_a_plugin_that_cannot_load_or_shadows_a_builtin_leaves_the_file_undecided(installed, entry: str,
                                                                                   tmp_path: Path) -> None:
    installed(entry)
    with pytest.raises(ConfigError):
        active_rules()
    decision = Judge(CONFIG).decide(AI, Zone.FINAL, near=[])
    assert [f.rule for f in decision.judgement.undecided] == ["rule-error"]
    assert decision.failure is not None and "plug-in" in decision.failure


def test_every_builtin_finding_is_named_after_the_rule_that_raised_it() -> None:
    from provenance.model import Declarations, Risk

    everything = Verdict(path="p", sha256="cd" * 32, format="png", size=1,
                         classification=Classification.AI_GENERATED, errors=("x: broken",),
                         declarations=Declarations(risks=frozenset(Risk)), evidence=AI.evidence)
    names = {r.name for r in active_rules()}
    found = judge(everything, Zone.FINAL, CONFIG).open
    assert {f.rule for f in found} >= {"unreadable", "temporary-material", "talent-likeness", "personal-data",
                                       "third-party-ip", "unvetted-tool"}
    assert {f.rule for f in found} <= names
