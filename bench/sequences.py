"""Sequence grouping (`provenance.sequences.group`, fileseq) against the regex grouping it
replaced (gate/sequences.py before 2026-12-02, kept below as the baseline), on the same paths.

    .venv/bin/python bench/sequences.py --frames 20000 --singles 2000

Every gate and `inspect` run groups its whole package once, so this is a fixed cost on top
of the walk; both groupers are checked to find the same sequences (with no holes, which the
old one named `####` and the new one `1001-1100#`) before they are timed (best of 5).
"""

from __future__ import annotations

import argparse
import re
import sys
import timeit
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from provenance.formats import FRAME_EXTENSIONS
from provenance.sequences import group

_FRAME = re.compile(r"^(?P<stem>.*?)(?P<sep>[._])(?P<num>\d{3,})\.(?P<ext>[A-Za-z0-9]+)$")


def regex_groups(paths: list[str]) -> list[tuple[str, int]]:
    """The replaced grouping, reduced to what it found: (sequence key, frame count)."""
    keyed: dict[tuple[str, str, str, str, int], list[int]] = {}
    for p in paths:
        folder, _, name = p.rpartition("/")
        m = _FRAME.match(name)
        if m is None or m["ext"].lower() not in FRAME_EXTENSIONS:
            continue
        keyed.setdefault((folder, m["stem"], m["sep"], m["ext"], len(m["num"])), []).append(int(m["num"]))
    return sorted((f"{k[0]}/{k[1]}{k[2]}", len(v)) for k, v in keyed.items() if len(v) >= 2)


def fileseq_groups(paths: list[str]) -> list[tuple[str, int]]:
    return sorted((g.sequence.folder + g.sequence.stem, len(g.items))
                  for g in group(paths, str) if g.sequence is not None)


def best(fn: Callable[[], object], runs: int = 5) -> float:
    return min(timeit.repeat(fn, number=1, repeat=runs))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=20000)
    ap.add_argument("--per-sequence", type=int, default=100)
    ap.add_argument("--singles", type=int, default=2000)
    args = ap.parse_args()
    per = args.per_sequence
    paths = [f"reel{i // 1000:02d}/shot{i // per:04d}/comp_v001.{1001 + i % per}.exr"
             for i in range(args.frames)]
    paths += [f"edit/clip_{i:04d}.mov" for i in range(args.singles)]
    assert regex_groups(paths) == fileseq_groups(paths), "the two groupers disagree"
    old, new = best(lambda: regex_groups(paths)), best(lambda: group(paths, str))
    print(f"{len(paths)} paths, {args.frames // args.per_sequence} sequences: regex {old * 1000:.0f} ms, "
          f"fileseq {new * 1000:.0f} ms = {new / old:.1f}x the regex "
          f"({new / len(paths) * 1e6:.1f} us a path)")


if __name__ == "__main__":
    main()
