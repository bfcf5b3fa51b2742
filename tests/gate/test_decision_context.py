"""A warm gate keeps the decisions of files that cleared with nothing to say, under a context
(`gate.context`). Everything that can change a decision besides the bytes must move a kept
decision out of the way: memory learnt since, approvals added, expired, revoked or deleted,
a config change, changed bytes behind a restored mtime, a sidecar added, a cache that is not
this show's. Each scenario first makes the kept decision exist (cold run, then a warm run that
keeps it: the cold run's own fingerprints move the ledger once), so it fails if the check
it is named for is removed."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from provenance import judge as judge_module
from provenance import pipeline
from provenance.cli import main
from provenance.gate.cache import CLEAR
from provenance.model import Scope
from tests.gate.conftest import AI_IPTC, Show, ai_png, asset, cache_blob, cache_path, plain_png
from tests.show_ledger import make_ledger

Capsys = pytest.CaptureFixture[str]


def _kept(show: Show, capsys: Capsys, *files: Path) -> dict[str, Any]:
    """Gate until `files` have kept clear decisions; the last report."""
    for _ in range(2):
        rc, report, _ = show.gate(show.pkg, capsys=capsys)
    rows = cache_blob(show.root)[2]
    for f in files:
        st = f.stat()
        assert rows[st.st_dev, st.st_ino][CLEAR] is not None, f  # the precondition of each test
    assert rc == report["exit_code"]
    return report


def test_memory_learnt_after_the_cached_run_blocks(show: Show, capsys: Capsys) -> None:
    plate = plain_png(show.pkg / "plate.png", seed=3)
    assert asset(_kept(show, capsys, plate), "plate.png")["status"] == "clear"
    # A byte-identical copy is tagged AI elsewhere in the show: the ledger now remembers the bytes.
    work = show.root / "working"
    work.mkdir()
    shutil.copy(plate, work / "plate_gen.png")
    assert main(["tag", "--config", str(show.config_file), "--generated", "--tool", "Runway",
                 "--sidecar-only", str(work / "plate_gen.png")]) == 0
    rc, report, _ = show.gate(show.pkg, capsys=capsys)
    entry = asset(report, "plate.png")
    assert rc == 1 and entry["status"] == "blocked" and entry["memory"], entry


def test_a_config_change_judges_again(show: Show, capsys: Capsys) -> None:
    plate = plain_png(show.pkg / "plate.png", seed=4)
    assert asset(_kept(show, capsys, plate), "plate.png")["status"] == "clear"
    show.config_file.write_text(show.config_file.read_text().replace('unknown = "pass"',
                                                                     'unknown = "require-declaration"'))
    rc, report, _ = show.gate(show.pkg, capsys=capsys)
    assert rc != 0 and asset(report, "plate.png")["status"] != "clear"


def test_changed_bytes_behind_a_restored_mtime_are_read(show: Show, capsys: Capsys) -> None:
    plate = plain_png(show.pkg / "plate.png", seed=5)
    _kept(show, capsys, plate)
    st = plate.stat()
    ai_png(show.root / "gen.png").replace(plate)
    os.utime(plate, ns=(st.st_atime_ns, st.st_mtime_ns))
    rc, report, _ = show.gate(show.pkg, capsys=capsys)
    assert rc == 1 and asset(report, "plate.png")["classification"] == "ai_generated"


def test_a_sidecar_added_is_read(show: Show, capsys: Capsys) -> None:
    plate = plain_png(show.pkg / "plate.png", seed=6)
    _kept(show, capsys, plate)
    sidecar = show.root / "made.xmp"  # made elsewhere, then moved beside the plate
    subprocess.run(["exiftool", "-q", "-o", str(sidecar), f"-XMP-iptcExt:DigitalSourceType={AI_IPTC}"],
                   check=True)
    sidecar.rename(show.pkg / "plate.png.xmp")
    rc, report, _ = show.gate(show.pkg, capsys=capsys)
    assert rc == 1 and asset(report, "plate.png")["classification"] == "ai_generated"


def test_another_shows_cache_is_a_cold_run(show: Show, capsys: Capsys, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """The same user gates two shows over the same package: one show's cache copied over the
    other's verifies (same key) but names the other show, so nothing in it is used."""
    ai_png(show.pkg / "gen.png")
    plate = plain_png(show.pkg / "plate.png", seed=7)
    _kept(show, capsys, plate)
    other = tmp_path / "other"
    (other / ".provenance").mkdir(parents=True)
    (other / "provenance.toml").write_text(show.config_file.read_text())
    make_ledger(other / "provenance.toml")
    capsys.readouterr()
    for _ in range(2):
        main(["gate", "--config", str(other / "provenance.toml"), "--json", str(show.pkg)])
    shutil.copy(cache_path(other), cache_path(show.root))
    read: list[str] = []
    real = pipeline.Inspector.inspect_many

    def counting(self: pipeline.Inspector, paths: Any, known_hashes: Any = None) -> Any:
        read.extend(os.path.basename(p) for p in paths)
        return real(self, paths, known_hashes)

    monkeypatch.setattr(pipeline.Inspector, "inspect_many", counting)
    rc, report, _ = show.gate(show.pkg, capsys=capsys)
    assert sorted(read) == ["gen.png", "plate.png"]  # cold: every file read
    assert rc == 1 and asset(report, "gen.png")["status"] == "blocked"
    assert asset(report, "plate.png")["status"] == "clear"
    assert cache_blob(show.root)[0] == os.path.realpath(show.root)  # its own cache again


def _approvals(show: Show, gen: Path) -> list[Path]:
    return sorted(p for p in show.root.rglob("*") if p.is_file() and gen.name in p.name and p != gen
                  and ".provenance" not in p.parts)


def test_approvals_added_deleted_revoked_and_expired_are_seen_warm(show: Show, capsys: Capsys) -> None:
    gen = ai_png(show.pkg / "gen.png")
    plate = plain_png(show.pkg / "plate.png", seed=8)
    assert asset(_kept(show, capsys, plate), "gen.png")["status"] == "blocked"
    show.add_approver("Legal", {Scope.FINAL_DELIVERABLE})
    written = show.approve(gen, "Legal", {Scope.FINAL_DELIVERABLE})
    rc, report, _ = show.gate(show.pkg, capsys=capsys)
    assert rc == 0 and asset(report, "gen.png")["status"] == "approved"  # added: cleared
    written.unlink()
    rc, report, _ = show.gate(show.pkg, capsys=capsys)
    assert rc == 1 and asset(report, "gen.png")["status"] == "blocked"  # deleted: blocked
    show.approve(gen, "Legal", {Scope.FINAL_DELIVERABLE}, ref="LEGAL-2")
    assert show.gate(show.pkg, capsys=capsys)[0] == 0
    show.revoke("Legal")
    rc, report, _ = show.gate(show.pkg, capsys=capsys)
    assert rc == 1 and asset(report, "gen.png")["status"] == "blocked"  # revoked: blocked
    assert asset(report, "plate.png")["status"] == "clear"


def test_an_approval_that_expires_after_the_cached_run_blocks(show: Show, capsys: Capsys) -> None:
    gen = ai_png(show.pkg / "gen.png")
    plate = plain_png(show.pkg / "plate.png", seed=9)
    show.add_approver("Legal", {Scope.FINAL_DELIVERABLE})
    expires = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(seconds=4)
    show.approve(gen, "Legal", {Scope.FINAL_DELIVERABLE}, expires_at=expires)
    report = _kept(show, capsys, plate)
    assert asset(report, "gen.png")["status"] == "approved"
    while dt.datetime.now(dt.UTC) <= expires + dt.timedelta(seconds=1):
        time.sleep(0.5)
    rc, report, _ = show.gate(show.pkg, capsys=capsys)
    assert rc == 1 and asset(report, "gen.png")["status"] == "blocked"


def test_cold_and_warm_reports_are_the_same(show: Show, capsys: Capsys, tmp_path: Path) -> None:
    """The JSON contract holds for kept decisions: equal but for when and which record."""
    names = ["plate.png", "notes ünïcode \"q\".txt", "plate_1001.png", "plate_1002.png"]
    for i, n in enumerate(names):
        if n.endswith(".png"):
            plain_png(show.pkg / "a" / n, seed=20 + i)
        else:
            (show.pkg / "a" / n).write_text("hi")
    ai_png(show.pkg / "gen.png")
    _, cold, _ = show.gate(show.pkg, capsys=capsys)
    _kept(show, capsys, show.pkg / "a" / "plate.png", show.pkg / "a" / names[1])
    _, warm, _ = show.gate(show.pkg, capsys=capsys)

    def timeless(r: dict[str, Any]) -> str:
        return json.dumps({k: v for k, v in r.items() if k not in ("decided_at", "decision_id")},
                          sort_keys=True)

    assert timeless(warm) == timeless(cold)


def test_a_rule_plug_in_installed_judges_again(show: Show, capsys: Capsys,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    from provenance.gate import context

    plate = plain_png(show.pkg / "plate.png", seed=10)
    _kept(show, capsys, plate)
    judged: list[str] = []
    real = judge_module.judge

    def judge(verdict: Any, *args: Any, **kw: Any) -> Any:
        judged.append(os.path.basename(verdict.path))
        return real(verdict, *args, **kw)

    monkeypatch.setattr(judge_module, "judge", judge)
    show.gate(show.pkg, capsys=capsys)
    assert judged == []  # kept: not judged again
    monkeypatch.setattr(context, "_rule_plugins", lambda: [["studio", "studio_rules:rules", "1.0"]])
    show.gate(show.pkg, capsys=capsys)
    assert judged == ["plate.png"]


def test_an_admin_key_rotated_in_place_judges_again(show: Show, capsys: Capsys, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """The trust file names its admin keys by path: a key replaced under the same name leaves
    the trust file's bytes alone, yet changes which registry (and retractions) are honoured."""
    from provenance.approvals.keys import new_keypair
    from provenance.approvals.trust import TRUST_ENV

    etc = tmp_path / "etc-provenance"
    etc.mkdir(mode=0o755)
    shutil.copy(os.environ[TRUST_ENV], etc / "trust.toml")
    shutil.copy(Path(os.environ[TRUST_ENV]).parent / "admin.key.pub", etc / "admin.key.pub")
    monkeypatch.setenv(TRUST_ENV, str(etc / "trust.toml"))
    plate = plain_png(show.pkg / "plate.png", seed=11)
    _kept(show, capsys, plate)
    judged: list[str] = []
    real = judge_module.judge

    def judge(verdict: Any, *args: Any, **kw: Any) -> Any:
        judged.append(os.path.basename(verdict.path))
        return real(verdict, *args, **kw)

    monkeypatch.setattr(judge_module, "judge", judge)
    show.gate(show.pkg, capsys=capsys)
    assert judged == []  # kept: not judged again
    new_keypair(tmp_path / "other.key")
    (etc / "admin.key.pub").write_bytes((tmp_path / "other.key.pub").read_bytes())
    show.gate(show.pkg, capsys=capsys)
    assert judged == ["plate.png"]
