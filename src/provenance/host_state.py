"""State that belongs to this host and one show: the daemon's status file and lock.

A show folder lives on shared storage that every artist can write and several hosts mount;
what one host's daemon keeps about itself (is it running, since when, who holds the show)
must not sit there: another host would read a pid that means nothing to it, an artist could
forge it, and the daemon would be writing into the roots it watches. So it lives on this
host's local disk, in the state folder (`$PROVENANCE_STATE_DIR`, else the XDG state home),
one sub-folder per show named after the show's real path.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

from provenance._os import make_dirs
from provenance.approvals.trust import state_dir
from provenance.config import Config
from provenance.errors import ConfigError

SHOWS = "shows"


def show_key(config: Config) -> Path:
    """What names a show on this host: its provenance.toml, or the folder watched without one."""
    return Path(os.path.realpath(config.file if config.file is not None else config.base_dir))


def show_dir(config: Config, create: bool = True) -> Path:
    """`<state>/shows/<folder name>-<hash of the real path>`: readable to the operator, unique."""
    key = show_key(config)
    folder = key.parent if config.file is not None else key
    slug = re.sub(r"[^A-Za-z0-9._-]+", "_", folder.name)[:40] or "root"
    digest = hashlib.sha256(os.fsencode(key)).hexdigest()[:12]
    path = state_dir() / SHOWS / f"{slug}-{digest}"
    if create:
        try:
            # The state folder itself 0700: it is also the gate's private state folder, which
            # the gate refuses (and with it its verdict cache) once others can enter it.
            make_dirs(state_dir(), 0o700)
            make_dirs(path)  # never group-writable: the gate refuses a ledger others could replace
        except OSError as exc:
            why = exc.strerror or exc
            raise ConfigError(f"cannot create this host's state folder for the show: {why} "
                              "(set PROVENANCE_STATE_DIR to a local folder this user can write)",
                              path) from None
    return path
