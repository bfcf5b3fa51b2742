"""A config that refuses typos (issue 13 item 4): unknown tables and keys, and values out of range,
are errors naming the file, the line and the nearest valid key; the JSON Schema shipped for
editors is the one the loader checks against; globs negate classes correctly."""

from __future__ import annotations

import json
import re
from importlib.resources import files
from pathlib import Path

import pytest

from provenance.cli import main
from provenance.config import load_config
from provenance.config_schema import json_schema
from provenance.errors import ConfigError
from provenance.model import Zone


def _error(tmp_path: Path, text: str) -> str:
    cfg = tmp_path / "provenance.toml"
    cfg.write_text(text)
    with pytest.raises(ConfigError) as err:
        load_config(cfg)
    assert err.value.path == str(cfg)
    return err.value.reason


def test_a_misspelt_zones_table_names_its_line_and_the_table_meant(tmp_path: Path) -> None:
    reason = _error(tmp_path, '[watch]\nsettle_seconds = 2\n\n[zone]\nfinal = ["**/out/**"]\n')
    assert reason == "line 4: [zone]: unknown table; did you mean 'zones'?"


def test_a_misspelt_key_names_its_line_and_the_key_meant(tmp_path: Path) -> None:
    reason = _error(tmp_path, '[ledger]\nurl = "sqlite:///x.db"\n[watch]\n# quiet period\n'
                              'setle_seconds = 2\n')
    assert reason == "line 5: [watch]: setle_seconds: unknown key; did you mean 'settle_seconds'?"


@pytest.mark.parametrize(("text", "expected"), [
    ("[watch]\nsettle_seconds = -5\n", r"^line 2: \[watch\] settle_seconds: input should be greater than or "
                                       r"equal to 0 \(got -5\)$"),
    ("[watch]\nworkers = 0\n", r"line 2: \[watch\] workers: input should be greater than or equal to 1"),
    ("[watch]\nworkers = true\n", r"line 2: \[watch\] workers: input should be a valid integer"),
    ("[watch]\nsettle_seconds = \"soon\"\n",
     r"line 2: \[watch\] settle_seconds: input should be a valid number"),
    ('[[roots]]\npath = "a"\n\n[[roots]]\npath = "b"\npoll_interval = 0\n',
     r"^line 6: \[roots\] 1.poll_interval: input should be greater than 0"),
    ('[policy]\nunknown = "passs"\n', r"line 2: \[policy\] unknown = 'passs' is not one of pass, "
                                      r"require-declaration; did you mean 'pass'\?"),
    ('[[signatures]]\nfield = "XMP-xmp:CreatorTool"\nvalue = "^(Gen"\nsignal = "ai_generated"\n',
     r"line 3: \[signatures\] 0.value: not a valid regular expression"),
    ('[approvals]\npackage_folder = "../elsewhere"\n', r"line 2: .*without '\.\.'"),
    ('[inspect]\ntime_limit_seconds = 0\n',
     r"line 2: \[inspect\] time_limit_seconds: input should be greater"),
])
def test_values_are_type_and_range_checked(tmp_path: Path, text: str, expected: str) -> None:
    assert re.search(expected, _error(tmp_path, text))


def test_a_signatures_row_with_the_wrong_key_lists_the_valid_ones(tmp_path: Path) -> None:
    reason = _error(tmp_path, '[[signatures]]\nfield = "XMP-xmp:CreatorTool"\npattern = "^Gen"\n'
                              'signal = "ai_generated"\n')
    assert "line 3: [signatures] 0: pattern: unknown key (valid: field, value, signal, generator)" in reason
    assert "value: field required" in reason.lower()


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    reason = _error(tmp_path, '[zone]\nfinal = []\n[watch]\nsetle_seconds = 1\nworkers = -1\n')
    assert [p.split(":")[0] for p in reason.split("; ") if p.startswith("line")] == \
        ["line 1", "line 4", "line 5"]


def test_a_shows_config_cannot_name_the_admin_keys(tmp_path: Path) -> None:
    """The trust root is pinned on the host (trust.toml), never in the show's own config."""
    reason = _error(tmp_path, '[trust]\nanchors = []\nadmin_keys = ["/show/mine.pub"]\n')
    assert reason.startswith("line 3: [trust]: admin_keys: unknown key")


def test_a_bad_config_leaves_the_gate_undecided_with_the_line(tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    cfg = tmp_path / "show" / "provenance.toml"
    (tmp_path / "pkg").mkdir()
    cfg.parent.mkdir()
    cfg.write_text("[zones]\nfinal = []\n[watch]\nsettle_seconds = -1\n")
    assert main(["gate", "--config", str(cfg), str(tmp_path / "pkg")]) == 3
    assert "line 4: [watch] settle_seconds" in capsys.readouterr().err


def test_the_shipped_json_schema_is_the_one_the_loader_checks() -> None:
    shipped = json.loads(files("provenance").joinpath("data/provenance.schema.json").read_text())
    assert shipped == json_schema(), "run scripts/write_config_schema.py"
    assert shipped["additionalProperties"] is False
    watch = shipped["$defs"]["WatchTable"]
    assert watch["additionalProperties"] is False and watch["properties"]["settle_seconds"]["minimum"] == 0


def test_the_templates_commented_examples_are_valid(tmp_path: Path) -> None:
    """Uncommenting the template's examples ([[tools]], [[signatures]], required, poll) must load."""
    text = files("provenance").joinpath("data/provenance.toml.template").read_text()
    uncommented = re.sub(r"^# ((?:\[\[?\w+\]\]?|[a-z_]+ = ).*)$", r"\1", text, flags=re.M)
    assert uncommented != text
    cfg = tmp_path / "provenance.toml"
    cfg.write_text(uncommented)
    config = load_config(cfg)
    assert config.tools and config.extra_signatures and config.roots[0].poll


@pytest.mark.parametrize(("name", "ignored"), [
    ("a.xmp", False),  # the hand-written translation got `[!t]` backwards: it ignored a.tmp-like
    ("a.tmp", True),   # names only by the built-in *.tmp, and a.xmp matched `*.[!t]mp`
    ("a.pmp", True),
    ("a.tmp.exr", False),
])
def test_a_negated_class_in_a_glob_negates(tmp_path: Path, name: str, ignored: bool) -> None:
    cfg = tmp_path / "provenance.toml"
    cfg.write_text('[watch]\nignore = ["*.[!x]mp"]\n')
    assert load_config(cfg).is_ignored(tmp_path / "ep101" / name) is ignored


def test_zone_globs_negate_and_span_folders(tmp_path: Path) -> None:
    cfg = tmp_path / "provenance.toml"
    cfg.write_text('[zones]\nfinal = ["**/final/**/*.[!t]mp", "deliv/**"]\nignore = ["**/.cache/**"]\n')
    config = load_config(cfg)
    assert config.zone_for(tmp_path / "ep1/final/a/b.xmp") is Zone.FINAL
    assert config.zone_for(tmp_path / "ep1/final/b.tmp") is Zone.WORKING
    assert config.zone_for(tmp_path / "deliv/x/y/z.mov") is Zone.FINAL
    assert config.zone_for(tmp_path / "deliver/z.mov") is Zone.WORKING
    assert config.zone_for(tmp_path / "ep1/.cache/final/x.xmp") is Zone.IGNORE


def test_tool_globs_match_names_case_insensitively(tmp_path: Path) -> None:
    cfg = tmp_path / "provenance.toml"
    cfg.write_text('[[tools]]\nname = "Adobe Firefly*"\ntrains_on_inputs = false\nenterprise = true\n')
    tool = load_config(cfg).tools[0]
    assert tool.matches("adobe firefly 4") and not tool.matches("Firefly")
