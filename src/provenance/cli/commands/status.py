"""`provenance status [--json]`: is the watch daemon running, and what has it seen?

Reads the daemon's `status.json` in this host's state folder for the show (rewritten every
few seconds) and the ledger's own statistics. A snapshot older than a few intervals, or whose
process is gone, is reported as stale: the daemon is not running.

Exit codes, for monitoring (a Nagios-style check, a systemd timer, a cron job): 0 only when the
daemon is running and its ledger can be read; 3 for everything else — stopped, failed, stale,
never started, unreadable status, unreadable ledger. "Unknown" is never healthy.
"""

from __future__ import annotations

import json
import socket
import time
from calendar import timegm
from pathlib import Path
from typing import Any

import click

from provenance._os import pid_alive, read_regular
from provenance.cli.options import config_option, json_option
from provenance.cli.output import emit
from provenance.config import Config, load_config
from provenance.errors import EXIT_UNDECIDED, LedgerError
from provenance.pathtext import shown

STALE_AFTER_INTERVALS = 5


def _epoch(iso: str | None) -> float | None:
    if not iso:
        return None
    return timegm(time.strptime(iso[:19], "%Y-%m-%dT%H:%M:%S"))


def daemon_state(config: Config, now: float | None = None) -> tuple[str, dict[str, Any] | None, str]:
    """("running" | "stopped" | "failed" | "stale" | "never-started", snapshot, why); "failed" is
    a daemon that stopped itself because it could not go on (its ledger file was lost)."""
    from provenance.watch.daemon import status_path

    path = status_path(config)
    try:
        snap = json.loads(read_regular(path).decode("utf-8"))
    except FileNotFoundError:
        return "never-started", None, f"no status file at {path}"
    except (OSError, ValueError, RecursionError) as exc:  # the state folder is writable by artists
        return "stale", None, f"unreadable status file {path}: {exc}"
    if not isinstance(snap, dict):
        return "stale", None, f"unreadable status file {path}: not a JSON object"
    now = time.time() if now is None else now
    age = now - (_epoch(snap.get("updated_at")) or 0)
    if snap.get("fatal"):
        return "failed", snap, f"the daemon stopped at {snap.get('updated_at')}: {snap['fatal']}"
    if not snap.get("running"):
        return "stopped", snap, f"the daemon stopped at {snap.get('updated_at')}"
    if snap.get("host") == socket.gethostname() and not pid_alive(int(snap.get("pid", 0))):
        return "stale", snap, f"process {snap.get('pid')} is gone (killed or crashed)"
    if age > STALE_AFTER_INTERVALS * float(snap.get("status_every_s", 2.0)):
        return "stale", snap, f"last update {age:.0f} s ago"
    return "running", snap, f"pid {snap.get('pid')} on {snap.get('host')}"


def healthy(state: str, stats: dict[str, Any] | None) -> bool:
    return state == "running" and stats is not None


@click.command("status")
@config_option
@json_option
@click.pass_context
def command(ctx: click.Context, config_path: Path | None, as_json: bool) -> None:
    """Show whether the watch daemon runs: roots, queue, last event/reconcile, overflows, findings.

    Exit 0 only when the daemon runs and its ledger can be read; 3 otherwise (stopped, stale,
    failed, never started, ledger missing/corrupt/unreachable): everything is still shown, but
    only a running daemon may pass a monitoring check."""
    from provenance.ledger import Ledger

    config = load_config(config_path)
    state, snap, why = daemon_state(config)
    try:
        with Ledger.open(config.effective_ledger_url, create=False) as ledger:
            stats: dict[str, Any] | None = ledger.stats()
            open_findings: int | None = len(ledger.open_findings())
    except LedgerError as exc:
        stats, open_findings = None, None
        why += f"; ledger: {exc}"
    if as_json:
        emit("status", {"state": state, "reason": why, "daemon": snap, "ledger": stats,
                        "open_findings": open_findings,
                        "exit_code": 0 if healthy(state, stats) else EXIT_UNDECIDED}, default=str)
        if not healthy(state, stats):
            ctx.exit(EXIT_UNDECIDED)
        return
    style = {"running": "green", "stopped": "yellow"}.get(state, "red")
    click.echo(click.style(f"daemon: {state.upper()} ({why})", fg=style, bold=True))
    if snap is not None:
        for r in snap.get("roots", []):
            alive = "watching" if r.get("alive") else "NOT WATCHING"
            click.echo(f"  root {r['path']}{' [poll]' if r.get('poll') else ''}: {alive}"
                       + (f" ({r['error']})" if r.get("error") else ""))
        for key in ("queue_depth", "settling", "files_judged", "last_event_at", "last_reconcile_at",
                    "overflows", "observer_restarts", "errors", "updated_at"):
            click.echo(f"  {key.replace('_', ' ')}: {snap.get(key)}")
        for folder in (snap.get("last_reconcile") or {}).get("unreadable_dirs") or ():
            click.echo(click.style(f"  could not read folder {shown(folder)}: nothing inside it is judged",
                                   fg="red"))
    if stats is not None:
        click.echo(f"ledger: {stats.get('url')} ({stats.get('backend')})")
    click.echo(f"open findings: {open_findings if open_findings is not None else 'unknown'}")
    if not healthy(state, stats):
        ctx.exit(EXIT_UNDECIDED)
