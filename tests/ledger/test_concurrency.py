"""Several writers on one ledger: threads in one daemon (SQLite), processes on one PostgreSQL
ledger (several watchers on several hosts). The chain must stay whole and counts exact."""

from __future__ import annotations

import multiprocessing
import threading
from pathlib import Path

import pytest

from provenance.ledger import Ledger
from provenance.ledger.migrations import LATEST
from provenance.model import Zone
from tests.ledger.helpers import ai_verdict, finding, sha

PER_WRITER = 500


def _write(url: str, name: str, count: int, barrier: object | None = None) -> None:
    if barrier is not None:
        barrier.wait(timeout=60)  # type: ignore[attr-defined]  (all open, and migrate, at once)
    with Ledger.open(url, host=name) as ledger:
        for i in range(count):
            digest = sha(f"{name}-{i}")
            path = f"/{name}/final/{i}.exr"
            assert ledger.record_verdict(ai_verdict(path, digest), (1, i, 100, 1, 1), Zone.FINAL)
            if i % 10 == 0:
                # every writer also races for the same finding: exactly one may open it
                ledger.open_finding(finding("/shared/final/x.exr", sha("shared")))


def _check(ledger: Ledger, writers: int) -> None:
    report = ledger.verify()
    assert report.ok, report.reason
    stats = ledger.stats()
    assert stats["events"] == writers * PER_WRITER + 1 == report.rows
    assert stats["locations"] == writers * PER_WRITER
    assert stats["open_findings"] == 1


def test_threads_share_one_sqlite_ledger(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    with Ledger.open(url) as ledger:
        errors: list[BaseException] = []

        def worker(name: str) -> None:
            try:
                for i in range(PER_WRITER):
                    ledger.record_verdict(ai_verdict(f"/{name}/{i}.exr", sha(f"{name}{i}")),
                                          (1, i, 100, 1, 1), Zone.FINAL)
                    if i % 10 == 0:
                        ledger.open_finding(finding("/shared/final/x.exr", sha("shared")))
                    if i % 50 == 0:
                        ledger.stats()  # readers interleave with writers
            except BaseException as exc:  # surfaced below: a thread's assert must fail the test
                errors.append(exc)

        threads = [threading.Thread(target=worker, args=(f"t{n}",)) for n in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        _check(ledger, 4)


def _two_writer_processes(url: str, prefix: str) -> None:
    """`_write` in two processes started together (names prefix0, prefix1); both must succeed."""
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(2)
    procs = [ctx.Process(target=_write, args=(url, f"{prefix}{n}", PER_WRITER, barrier)) for n in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=300)
    assert [p.exitcode for p in procs] == [0, 0]


def test_two_processes_share_one_sqlite_ledger(tmp_path: Path) -> None:
    # e.g. `provenance tag` on the workstation while the daemon writes
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    _two_writer_processes(url, "p")
    with Ledger.open(url) as ledger:
        _check(ledger, 2)


@pytest.mark.postgres
def test_two_processes_share_one_postgres_ledger(fresh_postgres_url: str) -> None:
    """Two watchers (two roots, two 'hosts') append concurrently to one PostgreSQL ledger."""
    url = fresh_postgres_url
    _two_writer_processes(url, "host")  # both open (and race to migrate) an empty database at once
    with Ledger.open(url) as ledger:
        _check(ledger, 2)
        hosts = {loc.host for loc in ledger.locations()}
        assert hosts == {"host0", "host1"}


@pytest.mark.postgres
def test_concurrent_first_open_migrates_once(fresh_postgres_url: str) -> None:
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(4)
    procs = [ctx.Process(target=_write, args=(fresh_postgres_url, f"h{n}", 1, barrier)) for n in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=120)
    assert [p.exitcode for p in procs] == [0, 0, 0, 0]
    with Ledger.open(fresh_postgres_url) as ledger, ledger.engine.connect() as conn:
        from sqlalchemy import text

        assert conn.execute(text("SELECT count(*) FROM schema_version")).scalar_one() == LATEST
        assert ledger.verify().ok and ledger.stats()["events"] == 5
