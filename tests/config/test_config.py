from __future__ import annotations

import os
from pathlib import Path

import pytest

from provenance.cli import main
from provenance.config import load_config
from provenance.errors import ConfigError
from provenance.model import Zone


@pytest.fixture
def show(tmp_path: Path) -> Path:
    assert main(["init", str(tmp_path / "show")]) == 0
    return tmp_path / "show"


def test_init_writes_a_loadable_commented_config(show: Path) -> None:
    text = (show / "provenance.toml").read_text()
    assert text.count("#") > 20
    cfg = load_config(show / "provenance.toml")
    assert cfg.roots[0].path == show.resolve()
    # The ledger is on this host's disk, one per show, never in the (shared) show folder.
    url = cfg.effective_ledger_url
    assert url.startswith(f"sqlite:///{os.environ['PROVENANCE_STATE_DIR']}/shows/show-")
    assert url.endswith("/ledger.db") and str(show.resolve()) not in url
    assert Path(url.removeprefix("sqlite:///")).is_file()  # made by init: a gate here finds it


def test_init_refuses_to_overwrite(show: Path) -> None:
    assert main(["init", str(show)]) == 2  # a usage error: --force would do it
    assert main(["init", str(show), "--force"]) == 0


def test_config_is_found_by_searching_upward(show: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    deep = show / "ep101" / "working" / "plates"
    deep.mkdir(parents=True)
    monkeypatch.delenv("PROVENANCE_CONFIG", raising=False)
    assert load_config(start=deep).file == (show / "provenance.toml").resolve()


@pytest.mark.parametrize(
    ("rel", "zone"),
    [
        ("ep101/final/hero.exr", Zone.FINAL),
        ("final/a.jpg", Zone.FINAL),
        ("ep101/deliverables/x/y.mov", Zone.FINAL),
        ("ep101/working/final_v2.jpg", Zone.WORKING),
        ("finals/a.jpg", Zone.WORKING),
    ],
)
def test_default_zones(show: Path, rel: str, zone: Zone) -> None:
    assert load_config(show).zone_for(show / rel) is zone


@pytest.mark.parametrize(
    ("name", "ignored"),
    [
        (".plate_v001.exr.Rhi3dL", True),  # rsync temp
        ("plate.exr.partial", True),  # Aspera
        ("plate.exr.aspx", True),
        ("hero.jpg_exiftool_tmp", True),
        ("hero.jpg_original", True),
        (".provenance-tmp-1234-hero.jpg", True),
        ("hero.jpg", False),
        ("plate_v001.exr", False),
        ("shot 010 - final.mov", False),
    ],
)
def test_in_flight_names_are_ignored(show: Path, name: str, ignored: bool) -> None:
    assert load_config(show).is_ignored(show / "ep101" / name) is ignored


def test_invalid_toml_names_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "provenance.toml"
    bad.write_text("[zones\nfinal = 3")
    with pytest.raises(ConfigError, match="invalid TOML") as err:
        load_config(bad)
    assert err.value.path == str(bad)


def test_wrong_type_is_reported(tmp_path: Path) -> None:
    bad = tmp_path / "provenance.toml"
    bad.write_text('[watch]\nsettle_seconds = "soon"\n')
    with pytest.raises(ConfigError, match="settle_seconds"):
        load_config(bad)


def test_every_command_offers_json() -> None:
    import click

    from provenance.cli import cli

    def leaves(group: click.Group, prefix: str) -> list[tuple[str, click.Command]]:
        out = []
        for name, cmd in group.commands.items():
            if isinstance(cmd, click.Group):
                out += leaves(cmd, f"{prefix}{name} ")
            else:
                out.append((prefix + name, cmd))
        return out

    missing = [name for name, cmd in leaves(cli, "")
               if "--json" not in {o for p in cmd.params for o in getattr(p, "opts", [])}]
    assert missing == []


def test_init_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import json

    assert main(["init", str(tmp_path / "s"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["config"].endswith("provenance.toml")


@pytest.mark.parametrize(("table", "message"), [
    ('{ "talent-likenes" = 2 }', "line 2: \\[approvals\\] required: 'talent-likenes' is not one of "
                                 "final-deliverable, .*; did you mean 'talent-likeness'"),
    ('{ "talent-likeness" = 0 }', "greater than or equal to 1"),
    ('{ "talent-likeness" = "two" }', "valid integer"),
    ('{ "talent-likeness" = true }', "valid integer"),
])
def test_required_approvers_are_checked(tmp_path: Path, table: str, message: str) -> None:
    bad = tmp_path / "provenance.toml"
    bad.write_text(f"[approvals]\nrequired = {table}\n")
    with pytest.raises(ConfigError, match=message):
        load_config(bad)


def test_required_approvers_default_to_one(tmp_path: Path) -> None:
    from provenance.model import Scope

    cfg = tmp_path / "provenance.toml"
    cfg.write_text('[approvals]\nrequired = { "talent-likeness" = 2 }\n')
    config = load_config(cfg)
    assert config.required_approvers(Scope.TALENT_LIKENESS) == 2
    assert config.required_approvers(Scope.FINAL_DELIVERABLE) == 1
