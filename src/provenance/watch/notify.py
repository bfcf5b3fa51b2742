"""Hand a new finding to the configured notification command.

The finding goes to the command as JSON on stdin and as PROVENANCE_FINDING_* variables,
so a one-line shell script and a webhook poster both work. A notifier that fails, hangs
or is missing is logged and never stops the daemon: the finding is already in the ledger.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess

from provenance.model import Finding

log = logging.getLogger(__name__)

NOTIFY_TIMEOUT_S = 30.0


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
