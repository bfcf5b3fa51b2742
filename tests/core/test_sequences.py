"""Image sequences as VFX names them (fileseq): ranges with holes, padding, negative frames."""

from __future__ import annotations

from pathlib import Path

import pytest

from provenance.cli import main
from provenance.sequences import Group, frame_range, group, group_paths, natural_key, split
from tests.gate.conftest import ai_png, plain_png


def names(groups: list[Group[str]]) -> list[str]:
    return [g.name for g in groups]


def test_a_sequence_with_holes_is_named_with_its_ranges_and_keeps_every_frame() -> None:
    frames = [*range(1001, 1005), *range(1006, 1011)]
    paths = [f"plates/plate.{n}.exr" for n in reversed(frames)]  # any order in, frame order out
    [g] = group_paths(paths)
    assert g.name == "plates/plate.1001-1004,1006-1010#.exr"
    assert g.sequence is not None and g.sequence.frame_range == "1001-1004,1006-1010"
    assert g.sequence.missing == [1005]
    assert g.items == tuple(f"plates/plate.{n}.exr" for n in frames)
    assert g.sequence.to_dict()["pattern"] == "plates/plate.%04d.exr"


@pytest.mark.parametrize(("paths", "name", "hashes", "at", "printf"), [
    (["s.001.dpx", "s.002.dpx"], "s.1-2@@@.dpx", "s.@@@.dpx", "s.@@@.dpx", "s.%03d.dpx"),
    (["s.00000001.exr", "s.00000002.exr"], "s.1-2##.exr", "s.##.exr", "s.@@@@@@@@.exr", "s.%08d.exr"),
    (["neg.-001.exr", "neg.0000.exr", "neg.0001.exr"], "neg.-1-1#.exr", "neg.#.exr", "neg.@@@@.exr",
     "neg.%04d.exr"),
])
def test_padding_in_each_style_and_negative_frames(paths: list[str], name: str, hashes: str, at: str,
                                                   printf: str) -> None:
    [g] = group_paths(paths)
    assert g.sequence is not None
    assert (g.name, g.sequence.pattern("#"), g.sequence.pattern("@"), g.sequence.pattern("%d")) == (
        name, hashes, at, printf)
    assert [g.sequence.frame_path(f) for f in g.sequence.frames] == paths


def test_only_still_image_frames_group_and_nothing_is_lost() -> None:
    paths = ["edit/shot_010.mov", "plates/a.1001.exr", "edit/shot_020.mov", "plates/a.1002.exr",
             "plates/a.1001.exr.xmp", "solo.1001.exr", "dup/b.1.png", "dup/b.1.png", "dup/b.2.png",
             "other/a.1003.exr"]
    groups = group_paths(paths)
    assert names(groups) == ["edit/shot_010.mov", "plates/a.1001-1002#.exr", "edit/shot_020.mov",
                             "plates/a.1001.exr.xmp", "solo.1001.exr", "dup/b.1.png", "dup/b.1.png",
                             "dup/b.2.png", "other/a.1003.exr"]
    assert sorted(p for g in groups for p in g.items) == sorted(paths)


def test_a_frame_kept_apart_by_the_caller_stays_single() -> None:
    paths = [f"p/f.{n:04d}.png" for n in range(1, 6)]
    groups = group(paths, str, groupable=lambda p: p != "p/f.0003.png")
    assert names(groups) == ["p/f.1-2,4-5#.png", "p/f.0003.png"]


def test_split_names_each_run_of_frames_by_its_own_answer() -> None:
    paths = [f"p/f.{n}.png" for n in range(1001, 1013)]
    [g] = group_paths(paths)
    parts = split(g, lambda p: p.endswith("1007.png"))
    assert names(parts) == ["p/f.1001-1006,1008-1012#.png", "p/f.1007.png"]
    assert [len(p.items) for p in parts] == [11, 1]
    assert split(g, lambda p: 0) == [g]


def test_frame_range_of_any_frames() -> None:
    assert frame_range([5, 1, 2, 3, 3, 7]) == "1-3,5,7"


def test_inspect_collapses_a_sequence_but_shows_the_odd_frame_on_its_own_row(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        exiftool_available: None) -> None:
    for n in range(1, 13):
        plain_png(tmp_path / "plates" / f"plate.{n:04d}.png", n)
    ai_png(tmp_path / "plates" / "plate.0007.png", 7)
    monkeypatch.chdir(tmp_path)
    assert main(["inspect", "plates"]) == 0
    rows = [line for line in capsys.readouterr().out.splitlines() if "plates/" in line]
    assert len(rows) == 2, rows
    assert "plates/plate.1-6,8-12#.png" in rows[0] and "unknown" in rows[0]
    assert "plates/plate.0007.png" in rows[1] and "ai_generated" in rows[1]


def test_natural_order() -> None:
    names = ["f2999.exr", "f998.exr", "f10.exr", "f1.exr", "g.exr"]
    assert sorted(names, key=natural_key) == ["f1.exr", "f10.exr", "f998.exr", "f2999.exr", "g.exr"]
