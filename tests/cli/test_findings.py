"""`provenance findings`: one line per finding at 120 columns, the principle only in --long and
JSON, filters, and a remedy that fits each rule."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from provenance.approvals.trust import STATE_ENV, TRUST_ENV
from provenance.cli import main
from provenance.model import Classification, Finding
from provenance.policy.registry import active_rules, remedy
from provenance.policy.rules import TAMPER, TEMPORARY, UNDECIDED_RULES
from tests.cli.conftest import ai_png, validated
from tests.conftest import Admin
from tests.gate.conftest import CONFIG


@pytest.fixture(scope="module")
def show(tmp_path_factory: pytest.TempPathFactory, admin: Admin) -> Path:
    """AI material in final (blocking) and in working (a warning), with a long folder name."""
    root = tmp_path_factory.mktemp("findings") / "show"
    (root / ".provenance").mkdir(parents=True)
    (root / "provenance.toml").write_text(CONFIG)
    ai_png(root / "ep101" / "final" / "gen.png")
    ai_png(root / "ep101" / "working" / "plates_for_the_sky_replacement_in_the_big_battle" / "wip.png", 2)
    with pytest.MonkeyPatch.context() as env:
        env.setenv(TRUST_ENV, str(admin.trust_file))
        env.setenv(STATE_ENV, str(tmp_path_factory.mktemp("findings-state")))
        assert main(["scan", "--config", str(root / "provenance.toml"), str(root)]) == 0
    return root


def _findings(show: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    capsys.readouterr()
    code = main(["findings", "--config", str(show / "provenance.toml"), *args])
    return code, capsys.readouterr().out


@pytest.fixture
def columns_120(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "120")


def test_one_line_per_finding_at_120_columns_with_relative_paths(show: Path, capsys, columns_120) -> None:  # type: ignore[no-untyped-def]
    code, out = _findings(show, capsys)
    assert code == 0
    lines = out.splitlines()
    header, rows, summary = lines[0], lines[1:-1], lines[-1]
    assert header.split() == ["rule", "path", "message", "clears", "it"]
    assert len(rows) == 3 and summary == "3 open findings (1 blocking)"
    assert all(len(line) <= 120 for line in lines), [len(line) for line in lines]
    assert str(show) not in out, "paths are relative to the show"
    by_rule = sorted((row.split()[0], row.split()[1]) for row in rows)
    assert by_rule[0] == ("temporary-material", "ep101/final/gen.png")
    assert by_rule[1][0] == by_rule[2][0] == "unvetted-tool"
    # A path too long for its column keeps its end: the file name says which file it is.
    assert any("wip.png" in row for row in rows)
    assert TEMPORARY not in out, "the principle is for --long and JSON"


def test_long_and_json_carry_the_principle_and_the_rule_s_own_remedy(show: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    _, out = _findings(show, capsys, "--long", "--rule", "temporary-material")
    assert f"principle: {TEMPORARY}" in out
    assert "clears it: an approval with scope 'final-deliverable'" in out
    assert "ep101/final/gen.png" in out and str(show) not in out

    _, out = _findings(show, capsys, "--json")
    doc = validated(out)
    assert doc["open"] == 3 and doc["blocking"] == 1
    for f in doc["findings"]:
        assert f["principle"] and f["remedy"] == f["clears_with_text"]
    vetting = [f for f in doc["findings"] if f["rule"] == "unvetted-tool"]
    assert all("[[tools]]" in f["remedy"] for f in vetting)


@pytest.mark.parametrize(("args", "expected"), [
    (["--blocking"], {("temporary-material", "gen.png")}),
    (["--rule", "unvetted-tool", "--path", "ep101/final/**"], {("unvetted-tool", "gen.png")}),
    (["--path", "**/working/**"], {("unvetted-tool", "wip.png")}),
    (["--rule", "temporary-material", "--rule", "unvetted-tool", "--path", "*/final/*"],
     {("temporary-material", "gen.png"), ("unvetted-tool", "gen.png")}),
    (["--since", "2000-01-01"], {("temporary-material", "gen.png"), ("unvetted-tool", "gen.png"),
                                 ("unvetted-tool", "wip.png")}),
    (["--since", "2999-01-01T00:00:00+00:00"], set()),
])
def test_filters(show: Path, capsys, args: list[str], expected: set[tuple[str, str]]) -> None:  # type: ignore[no-untyped-def]
    code, out = _findings(show, capsys, "--json", *args)
    assert code == 0
    assert {(f["rule"], os.path.basename(f["path"])) for f in json.loads(out)["findings"]} == expected


def test_a_since_that_is_no_time_is_a_usage_error(show: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    code, out = _findings(show, capsys, "--since", "last tuesday")
    assert code == 2 and out == ""


def test_every_rule_says_what_clears_it_and_no_rule_borrows_another_s_remedy() -> None:
    def finding(rule: str) -> Finding:
        return Finding(rule, "p", "/x", None, Classification.UNKNOWN, "m")

    for r in active_rules():
        assert r.remedy, f"{r.name} has no remedy"
    for name in UNDECIDED_RULES:
        assert "no approval clears this" in remedy(finding(name))
    tampered = remedy(finding("tampered-c2pa"))
    assert "vet" not in tampered and "tool" not in tampered and "manifest" in tampered
    assert next(r for r in active_rules() if r.name == "tampered-c2pa").principle == TAMPER
    assert "[[tools]]" in remedy(finding("unvetted-tool"))
