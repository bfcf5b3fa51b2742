"""Odd but legal trees the walk must handle: very deep folders, FIFOs, names that are not UTF-8."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

DEPTH = 1100  # above Python's default recursion limit (1000): a recursive walk dies here


def deep_folder(top: Path, depth: int = DEPTH) -> Path:
    """`top/d/d/…/d` (`depth` levels), made without recursion (os.makedirs recurses)."""
    folder = top
    for _ in range(depth):
        folder = folder / "d"
        folder.mkdir()
    return folder


def remove_deep(top: Path) -> None:
    """Remove a deep tree bottom-up without recursion (shutil.rmtree recurses on 3.11)."""
    stack = [str(top)]
    order = []
    while stack:
        folder = stack.pop()
        order.append(folder)
        with os.scandir(folder) as it:
            for e in it:
                if e.is_dir(follow_symlinks=False):
                    stack.append(e.path)
                else:
                    os.unlink(e.path)
    for folder in reversed(order):
        os.rmdir(folder)


@pytest.fixture
def deep(tmp_path: Path) -> Iterator[Path]:
    """The bottom folder of a DEPTH-deep tree under tmp_path/deep (removed afterwards)."""
    top = tmp_path / "deep"
    top.mkdir()
    try:
        yield deep_folder(top)
    finally:
        remove_deep(top)
