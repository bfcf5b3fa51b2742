"""State only this user can read or write, kept outside every show tree.

Whoever can write a show folder (every artist who tags) must not be able to feed the gate
state it then trusts. So what the gate remembers between runs lives in the running user's own
state directory (`$XDG_STATE_HOME/provenance`, default `~/.local/state/provenance`): a folder
0700 owned by that user, and a secret key (0600) that authenticates what is stored there, so
a file copied in from elsewhere or edited in place is rejected rather than believed.

Anything not exactly so (a folder owned by someone else, a key readable by others, no home
directory at all) raises `PrivateStateUnavailable`; callers then do without the state (the
gate hashes every file), never with state they cannot vouch for.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import os
import secrets
import stat
from pathlib import Path

from provenance._os import temp_path, write_atomic

KEY_BYTES = 32


class PrivateStateUnavailable(Exception):
    """There is no private place for this user's state (the reason says why)."""


def state_home() -> Path:
    """`$XDG_STATE_HOME/provenance`, or `~/.local/state/provenance` (XDG base directory spec)."""
    xdg = os.environ.get("XDG_STATE_HOME")
    if xdg and os.path.isabs(xdg):
        return Path(xdg) / "provenance"
    try:
        home = Path.home()
    except (RuntimeError, KeyError) as exc:
        raise PrivateStateUnavailable(f"no home directory ({exc})") from None
    return home / ".local" / "state" / "provenance"


def _check_private(st: os.stat_result, what: str, path: Path, kind: int) -> None:
    if stat.S_IFMT(st.st_mode) != kind:
        raise PrivateStateUnavailable(f"{path} is not a {what}")
    if st.st_uid != os.geteuid():
        raise PrivateStateUnavailable(f"{path} belongs to uid {st.st_uid}, not to this user")
    if st.st_mode & 0o077:
        raise PrivateStateUnavailable(f"{path} is accessible to others (mode {stat.S_IMODE(st.st_mode):o})")


def private_dir(*parts: str) -> Path:
    """The state folder (or a sub-folder of it), created 0700 if missing, and checked: a real
    folder (not a symlink), ours, closed to everyone else."""
    path = state_home()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)  # ~/.local/state: may be shared-readable
    except OSError as exc:
        raise PrivateStateUnavailable(f"cannot create {path.parent}: {exc.strerror or exc}") from None
    for part in ("", *parts):
        path = path / part if part else path
        try:
            path.mkdir(mode=0o700, exist_ok=True)
            st = os.lstat(path)
        except OSError as exc:
            raise PrivateStateUnavailable(f"cannot create {path}: {exc.strerror or exc}") from None
        _check_private(st, "folder", path, stat.S_IFDIR)
    return path


def secret_key(name: str) -> bytes:
    """A random key kept as `name` in the state folder, created on first use.

    Created atomically and never overwritten: written 0600 to a temporary file, fsynced, then
    hard-linked into place, so two processes starting together agree on one key (the loser
    reads the winner's) and nobody ever reads a half-written key.
    """
    folder = private_dir()
    path = folder / name
    if not os.path.lexists(path):
        tmp = temp_path(path)
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
            with os.fdopen(fd, "wb") as fh:
                fh.write(secrets.token_bytes(KEY_BYTES))
                fh.flush()
                os.fsync(fh.fileno())
            with contextlib.suppress(FileExistsError):  # another process made it first: use theirs
                os.link(tmp, path)
        except OSError as exc:
            raise PrivateStateUnavailable(f"cannot create {path}: {exc.strerror or exc}") from None
        finally:
            tmp.unlink(missing_ok=True)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError as exc:
        raise PrivateStateUnavailable(f"cannot read {path}: {exc.strerror or exc}") from None
    with os.fdopen(fd, "rb") as fh:
        _check_private(os.fstat(fh.fileno()), "regular file", path, stat.S_IFREG)
        key = fh.read(KEY_BYTES + 1)
    if len(key) != KEY_BYTES:
        raise PrivateStateUnavailable(f"{path} is not a {KEY_BYTES}-byte key")
    return key


_NOTE_KEY = "notes.key"


def read_note(name: str) -> dict[str, str]:
    """A small JSON note this user's runs keep for each other (`name` in the state folder),
    believed only with the MAC of the state folder's own key; {} when there is none, it is
    not authentic, or there is no private state."""
    try:
        key = secret_key(_NOTE_KEY)
        fd = os.open(private_dir() / name, os.O_RDONLY | os.O_NOFOLLOW)
    except (OSError, PrivateStateUnavailable):
        return {}
    with os.fdopen(fd, "rb") as fh:
        try:
            _check_private(os.fstat(fh.fileno()), "regular file", private_dir() / name, stat.S_IFREG)
        except PrivateStateUnavailable:
            return {}
        mac, _, body = fh.read(1 << 20).partition(b"\n")
    if not hmac.compare_digest(mac, hmac.new(key, body, hashlib.sha256).hexdigest().encode()):
        return {}
    try:
        data = json.loads(body)
    except ValueError:
        return {}
    if not isinstance(data, dict):
        return {}
    return {str(k): str(v) for k, v in data.items()}


def write_note(name: str, data: dict[str, str]) -> None:
    """Replace the note `name` (atomically, 0600, with its MAC); silently kept only in memory
    when there is no private state: a note only saves work, it never decides anything alone."""
    try:
        key = secret_key(_NOTE_KEY)
        body = json.dumps(data, sort_keys=True).encode()
        mac = hmac.new(key, body, hashlib.sha256).hexdigest().encode()
        write_atomic(private_dir() / name, mac + b"\n" + body, mode=0o600)
    except (OSError, PrivateStateUnavailable):
        return
