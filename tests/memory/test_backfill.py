"""`provenance scan --backfill`: fingerprints for assets the ledger knew before content memory.

The ledger here is one from before fingerprints: verdicts recorded for real files (corpus
derivatives made with Pillow), no fingerprint rows. The back-fill must print what is still on
storage with its recorded bytes, skip nothing saved, and report what it cannot print.
"""

from __future__ import annotations

import dataclasses
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PIL import Image

from provenance.cli import main
from provenance.fingerprint import VERSION, still
from provenance.identify import identify
from provenance.ledger import Ledger
from provenance.memory import store
from provenance.memory.recall import plain
from provenance.model import Classification, Evidence, Signal, Verdict, Zone
from tests.cli.conftest import validated
from tests.gate.conftest import Show
from tests.terminal import stderr_on_a_terminal

SOURCES = ("d26_t8.jpg", "d22_crater-lake-cr.jpg", "d09_horse_t2i_sample.jpg", "d23_crater-lake.jpeg")


def _derivatives(corpus: Path, folder: Path, widths: tuple[int, ...]) -> list[Path]:
    """Resized, metadata-free PNG copies of corpus stills (what a pipeline makes of them)."""
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for name in SOURCES:
        with Image.open(corpus / name) as im:
            rgb = im.convert("RGB")
        for w in widths:
            p = folder / f"{Path(name).stem}_{w}.png"
            rgb.resize((w, max(1, rgb.height * w // rgb.width))).save(p)
            out.append(p)
    return out


def _record(ledger: Ledger, path: Path, ai: bool = False) -> str:
    """What a pre-memory judge recorded for `path` (its verdict, no fingerprint)."""
    a = identify(path)
    evidence = (Evidence("png", "parameters", "Steps: 20, Sampler: Euler", Signal.AI_GENERATED,
                         generator="AUTOMATIC1111"),) if ai else ()
    cls = Classification.AI_GENERATED if ai else Classification.UNKNOWN
    verdict = Verdict(str(path), a.sha256, a.format, a.size, cls, evidence)
    ledger.record_verdict(verdict, a.stat_key, Zone.WORKING)
    return a.sha256


def _backfill(show: Show, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, object]]:
    capsys.readouterr()
    code = main(["scan", "--backfill", "--config", str(show.config_file), "--json", *args])
    return code, validated(capsys.readouterr().out)


def test_backfill_prints_what_is_on_storage_and_reports_the_rest(
        show: Show, corpus_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    files = _derivatives(corpus_dir, show.root / "working", (160, 240))
    gone_ai, changed, gone = files[0], files[1], files[2]
    with Ledger.open(show.config.effective_ledger_url) as ledger:
        hashes = {p: _record(ledger, p, ai=p in (gone_ai, files[3])) for p in files}
    gone_ai.unlink()
    gone.unlink()
    Image.new("RGB", (40, 30), "red").save(changed)  # other bytes at a recorded path

    capsys.readouterr()
    code = main(["scan", "--backfill", "--config", str(show.config_file), "--json"])
    out = capsys.readouterr()
    assert out.err == ""  # no progress bar when stderr is no terminal
    doc = validated(out.out)
    assert code == 0
    assert doc["assets"] == len(files) and doc["already"] == 0
    assert doc["fingerprinted"] == len(files) - 3
    assert sorted(doc["gone"]) == sorted(str(p) for p in (gone_ai, gone))  # type: ignore[arg-type]
    assert doc["changed"] == [str(changed)]
    assert doc["unreachable"] == 3
    # The AI original whose only copy is gone: memory cannot match its derivatives.
    assert doc["ai_without_fingerprint"] == [hashes[gone_ai]]
    with Ledger.open(show.config.effective_ledger_url) as ledger:
        assert sorted(store.missing(ledger, list(hashes.values()))) == sorted(
            hashes[p] for p in (gone_ai, changed, gone))
        prints = store.load(ledger, [hashes[files[3]], hashes[files[4]]])
        # As the judge does: the AI original gets crop variants, a plain file one picture hash.
        assert len(prints[hashes[files[3]]].frames[0].hashes) == len(still.CROPS)
        assert len(prints[hashes[files[4]]].frames[0].hashes) == 1
        assert ledger.verify().ok  # every row authenticated by its chained event

    code, again = _backfill(show, capsys)  # resumable: nothing saved is computed twice
    assert code == 0 and again["fingerprinted"] == 0 and again["already"] == len(files) - 3

    capsys.readouterr()
    assert main(["scan", "--backfill", "--config", str(show.config_file)]) == 0
    text = capsys.readouterr().out
    assert "1 AI original in memory without a fingerprint" in text
    assert f"changed: {changed}" in text


def _saved(db: Path) -> int:
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=0.2) as conn:
            return int(conn.execute("SELECT count(*) FROM fingerprints").fetchone()[0])
    except sqlite3.OperationalError:
        return 0


def test_a_sigkilled_backfill_keeps_its_saved_batches_and_the_next_run_finishes(
        show: Show, corpus_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    files = _derivatives(corpus_dir, show.root / "working", (400, 450, 500, 550, 600, 650, 700, 750))
    with Ledger.open(show.config.effective_ledger_url) as ledger:
        hashes = [_record(ledger, p) for p in files]
    db = show.root / ".provenance" / "ledger.db"
    child = subprocess.Popen([sys.executable, "-m", "provenance", "scan", "--backfill", "--config",
                              str(show.config_file), "--json"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while _saved(db) == 0 and child.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    os.kill(child.pid, signal.SIGKILL)  # no handler runs: what is saved is what was committed
    child.communicate()
    assert child.returncode == -signal.SIGKILL, "the back-fill finished before it could be killed"
    with Ledger.open(show.config.effective_ledger_url) as ledger:
        left = store.missing(ledger, hashes)
        assert 0 < len(left) < len(files)  # some batches saved, not all
        assert ledger.verify().ok  # the kill left no half-written row or event

    code, doc = _backfill(show, capsys)
    assert code == 0
    assert doc["fingerprinted"] == len(left)  # only what the killed run had not saved
    assert doc["already"] == len(files) - len(left)
    with Ledger.open(show.config.effective_ledger_url) as ledger:
        assert store.missing(ledger, hashes) == []


def test_old_versions_and_ai_prints_without_crop_variants_are_printed_again(
        show: Show, corpus_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    files = _derivatives(corpus_dir, show.root / "working", (160,))
    with Ledger.open(show.config.effective_ledger_url) as ledger:
        shas = [_record(ledger, p, ai=i == 1) for i, p in enumerate(files)]
        old, bare, current = (plain(files[i], "png", shas[i]) for i in range(3))
        assert old is not None and bare is not None and current is not None
        # files[1] is an AI original printed as a mere query (before it was known as AI).
        store.save(ledger, [dataclasses.replace(old, version=1), bare, current])  # stills changed at 2
    code, doc = _backfill(show, capsys)
    assert code == 0 and doc["fingerprinted"] == 3 and doc["already"] == 1  # files[0], [1], [3]
    with Ledger.open(show.config.effective_ledger_url) as ledger:
        got = store.load(ledger, shas)
        assert got[shas[0]].version == VERSION
        assert len(got[shas[1]].frames[0].hashes) == len(still.CROPS)
        assert store.missing(ledger, shas) == []


def test_the_progress_bar_goes_to_a_terminal_stderr_only(show: Show, corpus_dir: Path) -> None:
    """(With --json there is no bar at all, as for `scan`: a script is reading.)"""
    files = _derivatives(corpus_dir, show.root / "working", (160,))
    with Ledger.open(show.config.effective_ledger_url) as ledger:
        for p in files:
            _record(ledger, p)
    run = stderr_on_a_terminal([sys.executable, "-m", "provenance", "scan", "--backfill", "--config",
                                show.config_file], env={**os.environ, "TERM": "xterm", "COLUMNS": "100"})
    err, out = run.terminal, run.stdout
    assert run.returncode == 0
    assert b"fingerprinting" in err  # the bar, on the terminal
    assert b"fingerprinting" not in out and b"\x1b" not in out  # stdout: the results alone
    assert f"{len(files)} fingerprinted" in out.decode()
