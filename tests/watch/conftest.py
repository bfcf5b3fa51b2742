"""Helpers for the watch tests: a show folder, a daemon run in-process, AI/plain images."""

from __future__ import annotations

import hashlib
import io
import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PIL import Image
from PIL.PngImagePlugin import PngInfo
from sqlalchemy import select

from provenance.config import Config, load_config
from provenance.ledger import Ledger
from provenance.ledger.schema import events
from provenance.watch.daemon import Daemon

SETTLE = 0.3
TIMEOUT = 60.0


def wait_for(cond: Callable[[], object], timeout: float = TIMEOUT, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def png_bytes(seed: int, ai: bool) -> bytes:
    """A small PNG, unique per seed; `ai` adds an A1111 `parameters` chunk the readers catch."""
    info = PngInfo()
    if ai:
        info.add_text("parameters", f"a cat #{seed}\nSteps: 20, Sampler: Euler a, CFG scale: 7, "
                                    f"Seed: {seed}, Size: 8x8, Model: sd15")
    else:
        info.add_text("Comment", f"plain #{seed}")
    buf = io.BytesIO()
    Image.new("RGB", (8, 8), (seed % 256, seed // 256 % 256, 7)).save(buf, "PNG", pnginfo=info)
    return buf.getvalue()


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def write_show(folder: Path, extra: str = "", settle: float = SETTLE) -> Path:
    (folder / "working").mkdir(parents=True, exist_ok=True)
    (folder / "final").mkdir(exist_ok=True)
    cfg = folder / "provenance.toml"
    cfg.write_text(f"[watch]\nsettle_seconds = {settle}\nreconcile_seconds = 600\nworkers = 2\n{extra}")
    return cfg


def show_ledger_url(show: Path) -> str:
    """The ledger the show's daemon uses on this host (its default: this host's state folder)."""
    return load_config(show / "provenance.toml").effective_ledger_url


def verdict_shas(ledger: Ledger, path: Path | str) -> list[str | None]:
    """Every sha256 ever recorded in a verdict for `path` (the history, not just the latest)."""
    with ledger.engine.connect() as conn:
        rows = conn.execute(select(events.c.sha256).where(events.c.kind == "verdict",
                                                          events.c.path == str(path)).order_by(events.c.id))
        return [r.sha256 for r in rows]


def open_at(ledger: Ledger, path: Path | str) -> list[str]:
    return sorted(f.rule for f in ledger.open_findings() if f.path == str(path))


def start_daemon(show: Path, extra: str, workers: int = 2) -> tuple[Daemon, Ledger]:
    """A daemon started on a fresh show with `extra` appended to its [watch] table (the
    caller stops it and closes the ledger)."""
    cfg = write_show(show, extra)
    cfg.write_text(cfg.read_text().replace("workers = 2", f"workers = {workers}"))
    config = load_config(cfg)
    ledger = Ledger.open(config.effective_ledger_url)
    daemon = Daemon(config, ledger)
    daemon.start()
    return daemon, ledger


class Running:
    def __init__(self, daemon: Daemon, ledger: Ledger, config: Config) -> None:
        self.daemon, self.ledger, self.config = daemon, ledger, config
        self.root = config.base_dir

    def idle(self, timeout: float = TIMEOUT) -> None:
        # idle twice in a row across a settle period: nothing left that an event could still start
        def quiet() -> bool:
            if not self.daemon.idle():
                return False
            time.sleep(SETTLE)
            return self.daemon.idle()
        wait_for(quiet, timeout, "the daemon to go idle")

    def location(self, path: Path):
        return self.ledger.location(str(path))

    def wait_location(self, path: Path, sha256: str | None = None, timeout: float = TIMEOUT) -> None:
        def ok() -> bool:
            loc = self.ledger.location(str(path))
            return loc is not None and (sha256 is None or loc.sha256 == sha256)
        wait_for(ok, timeout, f"{path} in the ledger" + (f" as {sha256[:12]}" if sha256 else ""))


@pytest.fixture
def show(tmp_path: Path) -> Path:
    write_show(tmp_path / "show")
    return tmp_path / "show"


@pytest.fixture
def running(show: Path) -> Iterator[Running]:
    config = load_config(show / "provenance.toml")
    with Ledger.open(config.effective_ledger_url) as ledger:
        daemon = Daemon(config, ledger)
        daemon.start()
        r = Running(daemon, ledger, config)
        try:
            r.idle()
            yield r
        finally:
            daemon.stop()
    leftover = [t.name for t in threading.enumerate() if t.name.startswith("provenance-")]
    assert not leftover, f"threads leaked: {leftover}"


def slow_write(path: Path, data: bytes, chunks: int, pause: float) -> None:
    step = max(1, len(data) // chunks)
    with open(path, "wb") as fh:
        for i in range(0, len(data), step):
            fh.write(data[i:i + step])
            fh.flush()
            os.fsync(fh.fileno())
            time.sleep(pause)
