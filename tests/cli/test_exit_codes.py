"""Every command's exit code for the cases it has (0 ok/clear, 1 blocked/finding, 2 usage, 3 could
not decide), the same answer with and without `--json`, and with `--json` stdout is exactly one
document valid against the schema it names (an error too: `provenance.error/v1`)."""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from provenance.approvals.keys import new_keypair
from provenance.approvals.trust import STATE_ENV, TRUST_ENV
from provenance.cli import main
from provenance.model import Scope
from tests.cli.conftest import Run, Show, ai_png, plain_png, validated
from tests.conftest import Admin
from tests.gate.conftest import CONFIG

Case = Callable[[Show, Path], list[object]]


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory, admin: Admin) -> Show:
    """Made once: a show with one AI image and one plain one in the package, recorded by a scan,
    and an approver "doe" who may grant final-deliverable only; each test works on a copy."""
    root = tmp_path_factory.mktemp("template") / "show"
    (root / ".provenance").mkdir(parents=True)
    (root / "provenance.toml").write_text(CONFIG)
    made = Show(root, root / "deliveries" / "EP101", admin)
    ai_png(made.pkg / "gen.png")
    plain_png(made.pkg / "plain.png")
    new_keypair(root / "keys" / "roe.key")
    with pytest.MonkeyPatch.context() as env:  # the per-test trust fixture is not there yet
        env.setenv(TRUST_ENV, str(admin.trust_file))
        env.setenv(STATE_ENV, str(tmp_path_factory.mktemp("template-state")))
        made.add_approver("doe", {Scope.FINAL_DELIVERABLE})
        assert main(["scan", "--config", str(made.config_file), str(made.pkg)]) == 0
    return made


def _copy(template: Show, where: Path) -> Show:
    """A fresh copy of the template show at `where`/show, with a clean package beside it."""
    root = where / "show"
    shutil.copytree(template.root, root)
    plain_png(where / "clean" / "plate.png")
    return Show(root, root / "deliveries" / "EP101", template.admin,
                {name: root / key.relative_to(template.root) for name, key in template.keys.items()})


def _db(show: Show) -> Path:
    return show.root / ".provenance" / "ledger.db"


def cfg(show: Show) -> list[object]:
    return ["--config", show.config_file]


# (name, argv, exit code). Each argv is built on a copy of the template show; `t` is the folder
# holding it, with a clean package at t/clean.
CASES: list[tuple[str, Case, int]] = [
    ("init ok", lambda s, t: ["init", t / "new-show"], 0),
    ("init over an existing file", lambda s, t: ["init", s.root], 2),
    ("inspect ok", lambda s, t: ["inspect", *cfg(s), s.pkg / "plain.png"], 0),
    ("inspect unreadable", lambda s, t: ["inspect", *cfg(s), s.pkg / "missing.png"], 3),
    ("inspect usage", lambda s, t: ["inspect"], 2),
    ("gate clear", lambda s, t: ["gate", *cfg(s), t / "clean"], 0),
    ("gate blocked", lambda s, t: ["gate", *cfg(s), s.pkg], 1),
    ("gate usage", lambda s, t: ["gate", *cfg(s), "--report", "nosuchformat=x", s.pkg], 2),
    ("gate undecided", lambda s, t: ["gate", "--config", t / "missing.toml", s.pkg], 3),
    ("findings ok", lambda s, t: ["findings", *cfg(s)], 0),
    ("findings no ledger", lambda s, t: ["findings", "--config", _no_ledger(t)], 3),
    ("scan ok", lambda s, t: ["scan", *cfg(s), s.pkg], 0),
    ("scan usage", lambda s, t: ["scan", *cfg(s), t / "nowhere"], 2),
    ("scan undecided", lambda s, t: ["scan", "--config", t / "missing.toml", s.pkg], 3),
    ("approve ok", lambda s, t: ["approve", *cfg(s), s.pkg / "gen.png", "--scope", "final-deliverable",
                                 "--ref", "LEGAL-1", "--key", s.keys["doe"]], 0),
    ("approve a scope the key may not grant", lambda s, t: [
        "approve", *cfg(s), s.pkg / "gen.png", "--scope", "talent-likeness", "--ref", "L",
        "--key", s.keys["doe"]], 3),
    ("approve with a bad key", lambda s, t: [
        "approve", *cfg(s), s.pkg / "gen.png", "--scope", "final-deliverable", "--ref", "L",
        "--key", s.pkg / "plain.png"], 3),
    ("approve unknown scope", lambda s, t: [
        "approve", *cfg(s), s.pkg / "gen.png", "--scope", "everything", "--ref", "L",
        "--key", s.keys["doe"]], 2),
    ("approve empty ref", lambda s, t: [
        "approve", *cfg(s), s.pkg / "gen.png", "--scope", "final-deliverable", "--ref", " ",
        "--key", s.keys["doe"]], 2),
    ("approvers list", lambda s, t: ["approvers", "list", *cfg(s)], 0),
    ("approvers add, repeated --scope", lambda s, t: [
        "approvers", "add", "Roe", "--email", "roe@studio.example",
        "--public-key", s.root / "keys" / "roe.key.pub",
        "--scope", "final-deliverable", "--scope", "talent-likeness", "--admin-key", s.admin.key_file,
        *cfg(s)], 0),
    ("approvers add, unknown scope", lambda s, t: [
        "approvers", "add", "Roe", "--email", "roe@studio.example",
        "--public-key", s.root / "keys" / "roe.key.pub",
        "--scopes", "final-deliverable,everything", "--admin-key", s.admin.key_file, *cfg(s)], 2),
    ("keys new", lambda s, t: ["keys", "new", "--out", t / "k" / "new.key"], 0),
    ("keys new over an existing key", lambda s, t: ["keys", "new", "--out", s.keys["doe"]], 2),
    ("signer init", lambda s, t: ["signer", "init", *cfg(s), "--dir", t / "signing",
                                  "--ca-key", t / "ca.key"], 0),
    ("signer init bad mode", lambda s, t: ["signer", "init", *cfg(s), "--dir", t / "signing", "--ca-key",
                                           t / "ca.key", "--mode", "0666"], 2),
    ("tag --generated --edited", lambda s, t: ["tag", "--generated", "--edited", "--tool", "X", "--no-c2pa",
                                               s.pkg / "plain.png"], 2),
    ("tag without a kind", lambda s, t: ["tag", "--tool", "X", s.pkg / "plain.png"], 2),
    ("watch with two configurations", lambda s, t: ["watch", s.config_file, "--config", _no_ledger(t)], 2),
    ("report", lambda s, t: ["report", "--disclosure", *cfg(s)], 0),
    ("report --csv --json", lambda s, t: ["report", "--disclosure", "--csv", "--json", *cfg(s)], 2),
    ("report over a file that is no report", lambda s, t: ["report", "--disclosure", "--html",
                                                           s.pkg / "plain.png", *cfg(s)], 2),
    ("report no ledger", lambda s, t: ["report", "--disclosure", "--config", _no_ledger(t)], 3),
    ("ledger verify", lambda s, t: ["ledger", "verify", *cfg(s)], 0),
    ("ledger verify tampered", lambda s, t: ["ledger", "verify", *cfg(s), *_tampered(s)], 1),
    ("ledger verify no ledger", lambda s, t: ["ledger", "verify", "--config", _no_ledger(t)], 3),
    ("ledger verify usage", lambda s, t: ["ledger", "verify", *cfg(s), "--checkpoint", t / "cp.json"], 2),
    ("ledger info", lambda s, t: ["ledger", "info", *cfg(s)], 0),
    ("ledger checkpoint", lambda s, t: ["ledger", "checkpoint", *cfg(s), "--key", s.keys["doe"]], 0),
    ("readers", lambda s, t: ["readers"], 0),
    ("status never started", lambda s, t: ["status", *cfg(s)], 3),
    ("verify-delivery unreadable decision", lambda s, t: [
        "verify-delivery", s.pkg, "--decision", s.pkg / "plain.png"], 3),
    ("service unit", lambda s, t: ["service", "unit", *cfg(s)], 0),
    ("memory dismiss", lambda s, t: ["memory", "dismiss", s.pkg / "plain.png",
                                     "--original", s.pkg / "gen.png",
                                     "--ref", "REVIEW-1", "--key", s.keys["doe"], *cfg(s)], 0),
    ("memory dismiss usage", lambda s, t: ["memory", "dismiss", s.pkg / "plain.png", "--ref", "R",
                                           "--key", s.keys["doe"], *cfg(s)], 2),
]


def _no_ledger(tmp: Path) -> Path:
    """A show whose configuration names a SQLite ledger that does not exist."""
    (tmp / "empty-show").mkdir(exist_ok=True)
    config = tmp / "empty-show" / "provenance.toml"
    config.write_text('[ledger]\nurl = "sqlite:///.provenance/ledger.db"\n')
    return config


def _tampered(show: Show) -> list[object]:
    with sqlite3.connect(_db(show)) as db:
        db.execute("UPDATE events SET kind = 'removed' WHERE id = 1")
    return []


@pytest.mark.parametrize(("argv", "code"), [pytest.param(a, c, id=n) for n, a, c in CASES])
def test_exit_code(template: Show, tmp_path: Path, cli, argv: Case, code: int,  # type: ignore[no-untyped-def]
                   monkeypatch: pytest.MonkeyPatch) -> None:
    for as_json in (True, False):  # each on its own copy: init or approve change the show
        where = tmp_path / ("json" if as_json else "text")
        show = _copy(template, where)
        # and its own host state: a registry version seen in one copy is a rollback in the other
        monkeypatch.setenv(STATE_ENV, str(where / "host-state"))
        args = [*argv(show, where), *(["--json"] if as_json else [])]
        as_json = "--json" in args
        done: Run = cli(*args)
        assert done.code == code, (as_json, done.out, done.err)
        if as_json:
            doc = validated(done.out)
            assert doc.get("exit_code", code) == code
            if code == 2:
                assert doc["schema"] == "provenance.error/v1"
                assert doc["error"]["type"] in ("usage", "InvalidUsage")
        elif code in (2, 3) and not done.out.strip():
            assert done.err.strip(), "a failure says why, on stderr"
        if code == 2 and not as_json:
            assert not done.out.strip(), "a usage error prints no result"


def test_report_takes_its_file_like_the_gate_and_never_writes_over_an_edit(template: Show, tmp_path: Path,
                                                                         cli) -> None:  # type: ignore[no-untyped-def]
    show = _copy(template, tmp_path)
    html = tmp_path / "disclosure.html"
    done = cli("report", "--disclosure", "--html", html, *cfg(show))
    assert done.code == 0 and done.out == f"wrote {html}\n"
    assert html.read_text().startswith("<!doctype html>")
    edit = tmp_path / "cut.edl"
    edit.write_text("TITLE: cut\n")
    before = edit.read_bytes()
    cli("report", "--disclosure", "--json", edit, *cfg(show))  # the edit is an EDIT, not --json's FILE
    assert edit.read_bytes() == before
