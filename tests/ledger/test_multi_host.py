"""Several hosts, one PostgreSQL ledger: the deployment of docs/deployment.md, as real processes.

Each "host" is a process with its own provenance.toml and its own host-state folder
(`PROVENANCE_STATE_DIR`: where this host keeps its daemon's lock and status), all naming one
real PostgreSQL server: two watch daemons on two roots (storage nodes A and B), the gate on a
third (the transfer host), and an artist's `tag` and legal's `approve` from a fourth (a
workstation).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from sqlalchemy import select

from provenance.approvals.keys import load_public, new_keypair
from provenance.ledger import Ledger
from provenance.ledger.schema import events
from provenance.model import Scope
from tests.conftest import Admin
from tests.watch.conftest import png_bytes, sha, wait_for
from tests.watch.test_process import Proc

pytestmark = pytest.mark.postgres
BURST = 8  # files each daemon records at the same time as the other


def _host(root: Path, url: str, registry: Path, *, watches: bool) -> tuple[Path, dict[str, str]]:
    """A host's config and environment: its own folder, its own state, the shared ledger."""
    root.mkdir(parents=True)
    lines = [f"[ledger]\nurl = {json.dumps(url)}",
             f"[approvals]\napprovers_file = {json.dumps(str(registry))}"]
    if watches:
        (root / "working").mkdir()
        (root / "final").mkdir()
        lines.append("[watch]\nsettle_seconds = 0.3\nreconcile_seconds = 600\nworkers = 2")
    cfg = root / "provenance.toml"
    cfg.write_text("\n".join(lines) + "\n")
    return cfg, {"PROVENANCE_STATE_DIR": str(root.parent / f"{root.name}-host-state")}


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "provenance", *args], capture_output=True, text=True,
                          env={**os.environ, **env}, timeout=120)


def _verdicts_at(url: str, path: Path) -> list[dict[str, object]]:
    with Ledger.open(url, create=False) as ledger, ledger.engine.connect() as c:
        rows = c.execute(select(events.c.payload).where(events.c.kind == "verdict",
                                                        events.c.path == str(path))).all()
    return [r.payload["verdict"] for r in rows]


def _open_rules(url: str, path: Path) -> set[str]:
    with Ledger.open(url, create=False) as ledger:
        return {f.rule for f in ledger.open_findings() if f.path == str(path)}


def test_two_daemons_a_transfer_host_and_a_workstation_share_one_postgres_ledger(
        tmp_path: Path, fresh_postgres_url: str, admin: Admin, exiftool_available: None) -> None:
    url = fresh_postgres_url
    Ledger.open(url).close()  # the schema, as `provenance init --ledger URL` makes it
    registry = tmp_path / "registry" / "approvers.toml"
    registry.parent.mkdir()
    legal_key = tmp_path / "legal.key"
    new_keypair(legal_key)
    admin.add(registry, "Legal", load_public(Path(f"{legal_key}.pub")), {Scope.FINAL_DELIVERABLE})

    show_a, env_a = _host(tmp_path / "node-a" / "show", url, registry, watches=True)
    show_b, env_b = _host(tmp_path / "node-b" / "show", url, registry, watches=True)
    transfer, env_c = _host(tmp_path / "transfer", url, registry, watches=False)
    desk, env_d = _host(tmp_path / "workstation", url, registry, watches=False)
    a, b = show_a.parent, show_b.parent

    daemons = [Proc(["watch", "--config", str(show_a)], tmp_path / "a.log", env=env_a),
               Proc(["watch", "--config", str(show_b)], tmp_path / "b.log", env=env_b)]
    try:
        # Both running: each has recorded its own provenance.toml (its start-up reconcile).
        for d, show in zip(daemons, (show_a, show_b), strict=True):
            wait_for(lambda d=d, show=show: d.p.poll() is None and _verdicts_at(url, show), 60,
                     f"the daemon on {show.parent.parent.name} to start: {d.log.read_text()[-2000:]}")

        # A second daemon for node A's show, from another host mounting it at the same path:
        # its own flock is free, the shared ledger's advisory lock is not.
        second = _run(["watch", "--config", str(show_a)], {"PROVENANCE_STATE_DIR": str(tmp_path / "other")})
        assert second.returncode == 3, second.stderr
        assert "another watch daemon already runs for this show" in second.stderr
        assert f"provenance watch pid {daemons[0].p.pid}" in second.stderr

        # An artist on the workstation tags a generated plate that sits in A's final folder.
        plate = a / "final" / "plate.png"
        original = png_bytes(4242, ai=False)
        plate.write_bytes(original)
        tagged = _run(["tag", "--config", str(desk), "--generated", "--tool", "Gen-4", "--no-c2pa",
                       str(plate)], env_d)
        assert tagged.returncode == 0, tagged.stderr
        wait_for(lambda: "temporary-material" in _open_rules(url, plate), 60, "A to flag the tagged plate")

        # Meanwhile both daemons record bursts at once (concurrent writers on one chain).
        def burst(root: Path, base: int) -> None:
            for i in range(BURST):
                (root / "working" / f"w{i}.png").write_bytes(png_bytes(base + i, ai=i % 2 == 0))
        writers = [threading.Thread(target=burst, args=(root, base)) for root, base in ((a, 100), (b, 200))]
        for w in writers:
            w.start()
        for w in writers:
            w.join()

        # The untagged original's bytes land in B's final folder: nothing in the file says AI;
        # B knows it from the ledger (the tag the workstation recorded).
        copy = b / "final" / "plate_copy.png"
        copy.write_bytes(original)
        wait_for(lambda: "temporary-material" in _open_rules(url, copy), 60, "B to flag the copy")
        [verdict] = [v for v in _verdicts_at(url, copy) if v["sha256"] == sha(original)]
        assert verdict["classification"] == "ai_generated"
        assert any("remembers these bytes" in r["statement"] for r in verdict["memory"])  # type: ignore[union-attr]

        def wrote_all() -> bool:
            return all(len(_verdicts_at(url, r / "working" / f"w{i}.png")) == 1
                       for r in (a, b) for i in range(BURST))
        wait_for(wrote_all, 60, "both bursts recorded")

        # The transfer host gates B's final folder: blocked, from memory.
        gate = _run(["gate", "--config", str(transfer), "--json", str(b / "final")], env_c)
        assert gate.returncode == 1, gate.stderr
        [blocked] = [x for x in json.loads(gate.stdout)["assets"] if x["name"] == "plate_copy.png"]
        assert blocked["status"] == "blocked"

        # Legal approves the copy from the workstation; the transfer host's gate clears it.
        approved = _run(["approve", "--config", str(desk), str(copy), "--scope", "final-deliverable",
                         "--ref", "LEGAL-77", "--key", str(legal_key)], env_d)
        assert approved.returncode == 0, approved.stderr
        gate = _run(["gate", "--config", str(transfer), "--json", str(b / "final")], env_c)
        assert gate.returncode == 0, gate.stdout + gate.stderr
        [cleared] = [x for x in json.loads(gate.stdout)["assets"] if x["name"] == "plate_copy.png"]
        assert cleared["status"] == "approved"
    finally:
        codes = [d.close() for d in daemons]
    assert codes == [0, 0], [d.log.read_text()[-2000:] for d in daemons]

    # Every writer's events form one chain, and every state table is what the events say.
    verified = _run(["ledger", "verify", "--url", url, "--json"], env_c)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    report = json.loads(verified.stdout)
    assert report["ok"] and report["state_differences"] == [] and report["rows"] > 2 * BURST
