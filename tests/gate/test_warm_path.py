"""The warm gate's per-file path (issue 9, gate speed): an unchanged file costs one `stat`, its
cache row is still HMAC-verified, and a symlink is still reported as one."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from provenance import judge as judge_module
from provenance import policy
from provenance.gate import cache as gate_cache
from provenance.model import Verdict
from tests.gate.conftest import Show, ai_png, asset, cache_blob, plain_png


def test_a_warm_gate_stats_each_unchanged_file_once(show: Show, capsys: pytest.CaptureFixture[str],
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    names = [f"plate_{c}.png" for c in "abcd"]  # not numbered: single assets
    for i, name in enumerate(names):
        plain_png(show.pkg / "reel" / name, seed=i + 2)
    ai_png(show.pkg / "gen.png")
    cold = show.gate(show.pkg, capsys=capsys)
    # The cold run fingerprinted the PNGs into the ledger (memory moved): this run judges
    # every file again from its cached verdict and keeps the clear decisions.
    show.gate(show.pkg, capsys=capsys)
    stats: list[str] = []
    macs: list[int] = []
    decoded: list[str] = []
    judged: list[str] = []
    real_stat, real_lstat, real_mac = os.stat, os.lstat, gate_cache.blob_mac
    real_decode, real_judge = Verdict.from_dict, policy.judge

    def stat(path: object, *args: object, **kw: object) -> os.stat_result:
        stats.append(os.fsdecode(path))  # type: ignore[arg-type]
        return real_stat(path, *args, **kw)  # type: ignore[arg-type]

    def lstat(path: object, *args: object, **kw: object) -> os.stat_result:
        stats.append("lstat " + os.fsdecode(path))  # type: ignore[arg-type]
        return real_lstat(path, *args, **kw)  # type: ignore[arg-type]

    def blob_mac(key: bytes, payload: bytes) -> bytes:
        macs.append(len(payload))
        return real_mac(key, payload)

    def from_dict(d: dict[str, Any]) -> Verdict:
        decoded.append(os.path.basename(str(d.get("path"))))
        return real_decode(d)

    def judge(verdict: Verdict, *args: Any, **kw: Any) -> Any:
        judged.append(os.path.basename(verdict.path))
        return real_judge(verdict, *args, **kw)

    monkeypatch.setattr(os, "stat", stat)
    monkeypatch.setattr(os, "lstat", lstat)
    monkeypatch.setattr(gate_cache, "blob_mac", blob_mac)
    monkeypatch.setattr(Verdict, "from_dict", staticmethod(from_dict))
    monkeypatch.setattr(judge_module, "judge", judge)
    warm = show.gate(show.pkg, capsys=capsys)
    kept = cache_blob(show.root)  # before undo: it also undoes this test's state folder
    monkeypatch.undo()
    assert warm[0] == cold[0] == 1 and asset(warm[1], "gen.png")["status"] == "blocked"
    files = [str(show.pkg / "reel" / n) for n in names] + [str(show.pkg / "gen.png")]
    for f in files:
        assert stats.count(f) == 1, (f, [s for s in stats if s.endswith(os.path.basename(f))])
    for f in files[:-1]:  # a clear file: no lstat either (a blocked one has approvals looked up)
        assert "lstat " + f not in stats, f
    assert len(macs) == 1  # the whole cache verified once, nothing taken on trust, nothing rewritten
    # A clear file's decision came from the cache: no verdict decoded, no policy run for it.
    assert set(decoded) <= {"gen.png"} and "gen.png" in decoded
    assert set(judged) == {"gen.png"}
    assert warm[1]["assets"] == cold[1]["assets"]
    _, _, rows, bodies = kept
    assert len(rows) == 5 and len(bodies) < len(rows)  # the plain PNGs share one verdict body


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


def test_the_hosts_state_folder_keeps_the_cache_private(show: Show, capsys: pytest.CaptureFixture[str],
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """The host state (ledger location markers, daemon lock) and the gate's private state are
    one folder when $PROVENANCE_STATE_DIR is not set. Whoever creates it first must make it
    0700, or the gate refuses its cache from then on and every warm run is a cold one."""
    from provenance import pipeline
    from provenance.approvals.trust import STATE_ENV
    from provenance.private_state import state_home

    monkeypatch.delenv(STATE_ENV)
    plain_png(show.pkg / "plate.png", seed=3)
    show.gate(show.pkg, capsys=capsys)
    assert state_home().stat().st_mode & 0o777 == 0o700

    def no_reading(self: pipeline.Inspector, paths: Any, known_hashes: Any = None) -> Any:
        raise AssertionError(f"the warm gate read {list(paths)} instead of using its cache")

    monkeypatch.setattr(pipeline.Inspector, "inspect_many", no_reading)
    rc, _, err = show.gate(show.pkg, capsys=capsys)
    assert rc == 0 and "cache unavailable" not in err
