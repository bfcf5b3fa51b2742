"""Hand a new finding to the configured notification command and apprise targets.

The finding goes to the command as JSON on stdin and as PROVENANCE_FINDING_* variables,
so a one-line shell script and a webhook poster both work; `[notify] urls` send it through
apprise (Slack, e-mail, a JSON webhook, …). A notifier that fails, hangs or is missing is
logged and never stops the daemon: the finding is already in the ledger.

Both run on one notifier thread fed by a small bounded queue, never on a worker: a hook that
takes its whole 30 s must not hold up the classification of the next file. A full queue
(a notifier far slower than findings arrive) drops the notification with a warning rather
than block a worker — the finding itself is in the ledger and in `provenance findings`.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import re
import subprocess
import threading
from collections.abc import Callable, Sequence
from typing import Any

from provenance.errors import ConfigError
from provenance.model import Finding

log = logging.getLogger(__name__)

NOTIFY_TIMEOUT_S = 30.0
QUEUE_SIZE = 100
_STOP = object()


def shown_url(url: str) -> str:
    """An apprise URL as it may be logged: its scheme only. Apprise puts secrets anywhere (a
    Slack token is the "host", a webhook key the path), so nothing after :// is safe to show."""
    m = re.match(r"([A-Za-z][A-Za-z0-9+.-]*)://", url)
    return f"{m.group(1)}://…" if m else "<not a URL>"


def finding_env(finding: Finding) -> dict[str, str]:
    d = finding.to_dict()
    return {
        "PROVENANCE_FINDING_RULE": d["rule"],
        "PROVENANCE_FINDING_PRINCIPLE": d["principle"],
        "PROVENANCE_FINDING_PATH": d["path"],
        "PROVENANCE_FINDING_SHA256": d["sha256"] or "",
        "PROVENANCE_FINDING_CLASSIFICATION": d["classification"],
        "PROVENANCE_FINDING_MESSAGE": d["message"],
        "PROVENANCE_FINDING_CLEARS_WITH": ",".join(d["clears_with"]),
        "PROVENANCE_FINDING_BLOCKING": "1" if d["blocking"] else "0",
    }


def notify(command: str, finding: Finding, timeout_s: float = NOTIFY_TIMEOUT_S) -> bool:
    """Run `command` (through /bin/sh, as the admin wrote it) for one finding; True on exit 0."""
    try:
        proc = subprocess.run(
            command, shell=True, input=json.dumps(finding.to_dict()), text=True,
            env={**os.environ, **finding_env(finding)}, capture_output=True, timeout=timeout_s,
        )
    except subprocess.TimeoutExpired:
        log.error("notify command timed out after %.0f s for %s", timeout_s, finding.path)
        return False
    except OSError as exc:
        log.error("notify command could not run for %s: %s", finding.path, exc)
        return False
    if proc.returncode != 0:
        log.error("notify command exited %d for %s: %s", proc.returncode, finding.path,
                  proc.stderr.strip()[-500:])
        return False
    return True


class Targets:
    """The apprise targets of `[notify] urls`, checked when the daemon starts."""

    def __init__(self, urls: Sequence[str]) -> None:
        import apprise  # only a daemon with targets pays for the import

        self._apprise = apprise.Apprise()
        for url in urls:
            if not self._apprise.add(url):
                raise ConfigError(f"[notify] urls: apprise does not accept {shown_url(url)} "
                                  "(unknown scheme or malformed URL)")
        self._shown = ", ".join(shown_url(u) for u in urls)

    def send(self, finding: Finding) -> bool:
        body = json.dumps(finding.to_dict(), ensure_ascii=False)
        title = f"provenance: {finding.rule} on {os.path.basename(finding.path)}"
        try:
            ok = bool(self._apprise.notify(body=body, title=title))
        except Exception as exc:  # a plug-in's bug must not end the notifier thread
            log.error("notification to %s failed for %s: %s", self._shown, finding.path,
                      type(exc).__name__)
            return False
        if not ok:
            log.error("notification to %s failed for %s", self._shown, finding.path)
        return ok


class Notifier:
    """One thread sending findings to the hook command and the apprise targets, in order.

    `settings` is read per finding, so a SIGHUP reload that changes the command takes effect;
    the apprise targets are rebuilt only when the URLs change."""

    def __init__(self, settings: Callable[[], tuple[str | None, tuple[str, ...]]],
                 queue_size: int = QUEUE_SIZE) -> None:
        self._settings = settings
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=queue_size)
        self._targets: tuple[tuple[str, ...], Targets | None] = ((), None)
        self.sent = 0
        self.dropped = 0
        self._targets_for(settings()[1])  # a bad URL refuses to start, before any finding
        self._thread = threading.Thread(target=self._run, name="provenance-notifier", daemon=True)
        self._thread.start()

    def _targets_for(self, urls: tuple[str, ...]) -> Targets | None:
        if urls != self._targets[0]:
            self._targets = (urls, Targets(urls) if urls else None)
        return self._targets[1]

    def submit(self, finding: Finding) -> None:
        """Queue a finding; never blocks (a full queue drops it with a warning)."""
        command, urls = self._settings()
        if not command and not urls:
            return
        try:
            self._queue.put_nowait(finding)
        except queue.Full:
            self.dropped += 1
            log.warning("notification queue full (%d waiting): not notifying %s [%s]; the finding "
                        "is in the ledger", self._queue.maxsize, finding.path, finding.rule)

    def close(self, timeout_s: float = NOTIFY_TIMEOUT_S + 5) -> None:
        """Send what is queued (up to `timeout_s`), then end the thread."""
        try:
            self._queue.put(_STOP, timeout=timeout_s)
        except queue.Full:
            log.warning("notifier did not drain in %.0f s; %d notifications not sent", timeout_s,
                        self._queue.qsize())
            return
        self._thread.join(timeout_s)

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is _STOP:
                return
            command, urls = self._settings()
            try:
                if command:
                    notify(command, item)
                targets = self._targets_for(urls)
                if targets is not None:
                    targets.send(item)
                self.sent += 1
            except Exception:  # the notifier thread outlives any one notification
                log.exception("notifying %s failed", item.path)
