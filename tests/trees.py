"""Odd but legal trees the walk must handle: very deep folders, FIFOs, names that are not UTF-8."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FuturesTimeout
from pathlib import Path
from typing import TypeVar

import pytest

T = TypeVar("T")

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


def within(seconds: float, fifo: Path, fn: Callable[[], T]) -> T:
    """Run `fn` on a thread; fail (instead of hanging the suite) if it blocks on `fifo`."""
    with ThreadPoolExecutor(1) as pool:
        future = pool.submit(fn)
        try:
            return future.result(timeout=seconds)
        except FuturesTimeout:
            with contextlib.suppress(OSError):  # a writer end lets the stuck open() return
                os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
            pytest.fail(f"blocked on {fifo.name} for more than {seconds} s")
