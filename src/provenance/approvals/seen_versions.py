"""The highest approvers-registry version this host has seen, per show: the rollback check.

A signed registry stays validly signed forever, so an old copy put back (with an approver who
was since revoked) would verify. As TUF does for root metadata, the host remembers the highest
version it has accepted for each show and refuses anything older. The memory lives in the
host's state folder (trust.state_dir), never in the show tree an artist can write.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from provenance._os import make_dirs, write_atomic
from provenance.approvals.trust import state_dir
from provenance.errors import TrustError

FILE_NAME = "registry-versions.json"


def memory_file() -> Path:
    return state_dir() / FILE_NAME


@contextlib.contextmanager
def _locked(file: Path) -> Iterator[None]:
    make_dirs(file.parent)  # not group-writable whatever the umask: the gate would refuse it
    with open(file.with_name(file.name + ".lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # two gates at once must not lose each other's update
        yield


def _read(file: Path) -> dict[str, Any]:
    try:
        doc = json.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        # Fail closed: without the memory a rollback cannot be told from the current registry.
        raise TrustError(f"cannot read the registry versions this host has seen: {exc}", file) from None
    if not isinstance(doc, dict):
        raise TrustError("the registry versions this host has seen are not a JSON object", file)
    return doc


def check_and_remember(show: str, version: int, registry: Path) -> None:
    """Refuse `version` when this host already accepted a newer one for `show`; else remember it."""
    file = memory_file()
    try:
        with _locked(file):
            seen = _read(file)
            entry = seen.get(show)
            entry = entry if isinstance(entry, dict) else {}
            highest = entry.get("version")
            if isinstance(highest, int) and version < highest:
                raise TrustError(
                    f"rollback refused: this is version {version} of show {show!r}'s approvers registry, "
                    f"but this host already accepted version {highest} (on {entry.get('seen_at', '?')}): "
                    "an older copy was put back. Restore the current registry, or have an admin sign a "
                    "newer version", registry)
            if highest != version:
                seen[show] = {"version": version, "file": str(registry),
                              "seen_at": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()}
                write_atomic(file, (json.dumps(seen, indent=2, sort_keys=True) + "\n").encode("utf-8"))
    except OSError as exc:
        raise TrustError(f"cannot record the approvers registry version this host has seen: {exc} "
                         "(set PROVENANCE_STATE_DIR to a folder this user can write, outside the show)",
                         file) from None
