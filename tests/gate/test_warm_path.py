"""The warm gate's per-file path (issue 9, gate speed): an unchanged file costs one `stat`, its
cache row is still HMAC-verified, and a symlink is still reported as one."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from provenance.gate import cache as gate_cache
from tests.gate.conftest import Show, ai_png, asset, plain_png


def test_a_warm_gate_stats_each_unchanged_file_once(show: Show, capsys: pytest.CaptureFixture[str],
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    names = [f"plain_{i}.png" for i in range(4)]
    for i, name in enumerate(names):
        plain_png(show.pkg / "reel" / name, seed=i + 2)
    ai_png(show.pkg / "gen.png")
    cold = show.gate(show.pkg, capsys=capsys)
    stats: list[str] = []
    macs: list[object] = []
    real_stat, real_lstat, real_mac = os.stat, os.lstat, gate_cache.row_mac

    def stat(path: object, *args: object, **kw: object) -> os.stat_result:
        stats.append(os.fsdecode(path))  # type: ignore[arg-type]
        return real_stat(path, *args, **kw)  # type: ignore[arg-type]

    def lstat(path: object, *args: object, **kw: object) -> os.stat_result:
        stats.append("lstat " + os.fsdecode(path))  # type: ignore[arg-type]
        return real_lstat(path, *args, **kw)  # type: ignore[arg-type]

    def row_mac(key: bytes, row: gate_cache.Row) -> str:
        macs.append(row[:2])
        return real_mac(key, row)

    monkeypatch.setattr(os, "stat", stat)
    monkeypatch.setattr(os, "lstat", lstat)
    monkeypatch.setattr(gate_cache, "row_mac", row_mac)
    warm = show.gate(show.pkg, capsys=capsys)
    monkeypatch.undo()
    assert warm[0] == cold[0] == 1 and asset(warm[1], "gen.png")["status"] == "blocked"
    files = [str(show.pkg / "reel" / n) for n in names] + [str(show.pkg / "gen.png")]
    for f in files:
        assert stats.count(f) == 1, (f, [s for s in stats if s.endswith(os.path.basename(f))])
    for f in files[:-1]:  # a clear file: no lstat either (a blocked one has approvals looked up)
        assert "lstat " + f not in stats, f
    assert len(macs) == len(files)  # every hit verified, none taken on trust


def test_a_symlink_is_still_reported_from_the_warm_cache(show: Show, tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    target = plain_png(tmp_path / "elsewhere.png", seed=5)
    (show.pkg / "linked.png").symlink_to(target)
    plain_png(show.pkg / "own.png", seed=6)
    for _ in range(2):  # cold, then warm
        _, report, _ = show.gate(show.pkg, capsys=capsys)
        linked = asset(report, "linked.png")
        assert any("symlink to" in r and "outside the package" in r for r in linked["reasons"]), linked
        assert not any("symlink" in r for r in asset(report, "own.png")["reasons"])
