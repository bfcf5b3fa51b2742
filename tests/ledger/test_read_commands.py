"""Read-only commands that report from the ledger never read a broken ledger as "nothing there".

A monitoring check runs `provenance findings` or `status`: "no open findings" (exit 0) from a
ledger that is corrupt, unreachable or gone would read as all clear. Each of these commands
exits 3 with the reason instead (issue 10 item 13).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from provenance.cli import main
from tests.watch.conftest import png_bytes, show_ledger_url, write_show

COMMANDS = [
    ["findings"], ["findings", "--json"], ["status"], ["status", "--json"],
    ["report", "--disclosure", "--json"], ["report", "--disclosure", "--csv"], ["ledger", "info"],
    ["ledger", "verify"], ["ledger", "verify", "--json"],
]


def _show_with_findings(tmp_path: Path) -> Path:
    show = tmp_path / "show"
    cfg = write_show(show)
    (show / "final" / "gen.png").write_bytes(png_bytes(7100, ai=True))
    assert main(["scan", str(show), "--config", str(cfg)]) == 0
    return cfg


def _ledger_file(cfg: Path) -> Path:
    return Path(show_ledger_url(cfg.parent).removeprefix("sqlite:///"))


def _ledger_files(cfg: Path, suffix: str = "*") -> list[Path]:
    db = _ledger_file(cfg)
    return list(db.parent.glob(db.name + suffix))


def _garbage(cfg: Path) -> str:
    for f in _ledger_files(cfg):
        f.unlink()
    _ledger_file(cfg).write_bytes(b"this is not a database\n" * 400)
    return "not a database"


def _truncated(cfg: Path) -> str:
    db = _ledger_file(cfg)
    for f in _ledger_files(cfg, "-*"):
        f.unlink()  # the WAL would otherwise still hold the pages
    data = db.read_bytes()
    db.write_bytes(data[:4096] + b"\xff" * (len(data) - 4096))
    return "malformed"


def _deleted(cfg: Path) -> str:
    for f in _ledger_files(cfg):
        f.unlink()
    return "does not exist"


def _unreachable(cfg: Path) -> str:
    # Nothing listens on port 9 of the loopback: connection refused at once.
    cfg.write_text(cfg.read_text() + '\n[ledger]\nurl = "postgresql+psycopg://prov@127.0.0.1:9/show"\n')
    return "127.0.0.1"


BREAKAGES: dict[str, Callable[[Path], str]] = {
    "garbage": _garbage, "truncated": _truncated, "deleted": _deleted, "unreachable": _unreachable}


@pytest.mark.parametrize("breakage", sorted(BREAKAGES))
@pytest.mark.parametrize("args", COMMANDS, ids=" ".join)
def test_a_broken_ledger_is_exit_3_with_the_reason_never_an_empty_answer(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], exiftool_available: None,
        breakage: str, args: list[str]) -> None:
    cfg = _show_with_findings(tmp_path)
    capsys.readouterr()
    assert main(["findings", "--json", "--config", str(cfg)]) == 0
    assert json.loads(capsys.readouterr().out)["findings"], "the healthy ledger lists the finding"
    why = BREAKAGES[breakage](cfg)
    rc = main([*args, "--config", str(cfg)])
    out = capsys.readouterr()
    assert rc == 3, (args, breakage, out.out, out.err)
    assert "no open findings" not in out.out
    assert why in (out.out + out.err), (why, out.out, out.err)
    assert not (breakage == "deleted" and _ledger_file(cfg).exists()), "a read must not create a ledger"
    if "--json" in args and args[0] == "status":
        doc = json.loads(out.out)  # status still says what it knows about the daemon
        assert doc["ledger"] is None and why in doc["reason"]
