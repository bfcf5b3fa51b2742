"""Which ledger a show uses on this host: chosen here, and only here.

- `[ledger] url` in the show's provenance.toml: that ledger (SQLite path or PostgreSQL).
- No URL: embedded SQLite on this host's local disk, one per show, beside the daemon's own
  state (`host_state.show_dir`: `$PROVENANCE_STATE_DIR`, else the XDG state home, then
  `shows/<folder>-<hash>/ledger.db`). Never in the show folder: that lives on shared storage
  every artist can write (and SQLite WAL is refused on NFS/SMB anyway).
- No show config at all: no ledger. A per-user ledger would mix every show this user touches,
  so the commands that need one refuse and say how to name the show.

Migration. Before, a config without a URL meant `<show>/.provenance/ledger.db`. Such a ledger
keeps being used (with a note naming it) until it is moved (`provenance ledger move`); when
both it and this host's ledger exist the choice is refused rather than guessed. A ledger
that starts empty forgets every tag and approval it held, which is a false pass, so this host
remembers that it used the show-folder ledger (a marker in its state folder): if that file
disappears, nothing silently starts an empty ledger in its place.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from provenance.config import STATE_DIR, Config
from provenance.errors import ConfigError, LedgerError

if TYPE_CHECKING:
    from provenance.ledger import Ledger

LEDGER_NAME = "ledger.db"
# In this host's state folder for the show: "this host used the ledger in the show folder".
LEGACY_MARKER = "ledger-in-show-folder"

log = logging.getLogger(__name__)
_noted: set[str] = set()


@dataclass(frozen=True)
class LedgerChoice:
    url: str
    origin: str  # "config" | "host" | "show-folder"
    sqlite_path: Path | None = None  # the SQLite file, when known (the default's; the gate's)

    def exists(self) -> bool:
        """False only for a known SQLite ledger file that is not there (yet)."""
        return self.sqlite_path is None or self.sqlite_path.is_file()


def host_ledger_path(config: Config) -> Path:
    from provenance.host_state import show_dir  # host_state imports config: import late

    return show_dir(config) / LEDGER_NAME


def legacy_ledger_path(config: Config) -> Path:
    """Where a config without `[ledger] url` used to put the ledger: inside the show."""
    return config.base_dir / STATE_DIR / LEDGER_NAME


def no_show_config() -> ConfigError:
    return ConfigError(
        "no provenance.toml here or in any folder above, so no show's ledger is known (one "
        "ledger per user would mix shows): run this in the show folder, pass --config "
        "SHOW/provenance.toml (or set PROVENANCE_CONFIG), or create one with `provenance init "
        "SHOW [--ledger URL]`", Path.cwd())


def choose(config: Config) -> LedgerChoice:
    """The ledger this show uses on this host (ConfigError when it cannot be told)."""
    if config.ledger_url:
        _guard_in_show(config, config.ledger_url)
        return LedgerChoice(config.ledger_url, "config")
    if config.file is None and not config.roots:
        raise no_show_config()
    host = host_ledger_path(config)
    legacy = legacy_ledger_path(config) if config.file is not None else None
    marker = host.parent / LEGACY_MARKER
    if legacy is not None and legacy.is_file():
        if host.is_file():
            raise ConfigError(
                f"two ledgers for this show: {legacy} (in the show folder, where a config "
                f"without [ledger] url used to keep it) and {host} (this host's); refusing to "
                "pick one. Keep the one with the show's history (`provenance ledger info --url "
                "sqlite:///PATH` shows each) and remove or rename the other, or name one in "
                "[ledger] url", config.file)
        _remember_legacy(marker, legacy)
        _note(f"using the show's ledger {legacy} (inside the show folder, where earlier versions "
              f"kept it); move it to this host's disk with `provenance ledger move` "
              "(docs/deployment.md)")
        return LedgerChoice(f"sqlite:///{legacy}", "show-folder", legacy)
    if legacy is not None and not host.is_file() and _marker_names(marker, legacy):
        raise LedgerError(
            f"this host used the show's ledger {legacy}, and it is gone: restore it (or "
            f"`provenance ledger move` it to {host}). Starting an empty ledger would forget "
            f"every tag and approval it held; if the show really starts over, remove {marker}",
            legacy)
    return LedgerChoice(f"sqlite:///{host}", "host", host)


def ledger_url(config: Config) -> str:
    return choose(config).url


def open_for_gate(config: Config) -> Ledger:
    """The gate's ledger, opened: never one created empty on the spot, nor a SQLite file
    someone else could have replaced.

    A SQLite ledger that does not exist is undecided, whichever names it: a default ledger
    missing on this host means this host is not where the show's memory lives (a transfer host
    gating a NAS show watched elsewhere), and a file named in [ledger] url that is gone was
    deleted or moved (or the URL mistyped). A PostgreSQL database without the ledger's schema
    is not the show's ledger either (a typo in the URL, a database dropped and made again).
    Judging without that memory would clear copies the show knows are AI, so the gate is
    undecided instead; the writers (`provenance init`, `scan`, `watch`, `tag`) create ledgers.

    A SQLite file is the gate's memory as much as its config is its policy: whoever can
    replace it (or its -wal or -journal, which SQLite reads back into it) makes the gate forget
    what the show learned. So it must pass `check_protected`, as the config must.
    """
    from provenance.approvals.outside import check_protected
    from provenance.ledger import Ledger
    from provenance.ledger.store import SQLITE_COMPANIONS

    chosen = _for_gate(config)
    if chosen.sqlite_path is not None:
        db = chosen.sqlite_path
        check_protected([("ledger", db), *((f"ledger's {suffix} file", db.with_name(db.name + suffix))
                                           for suffix in SQLITE_COMPANIONS)], _KEEP_LEDGER_HERE)
    return Ledger.open(chosen.url, create=False)


_KEEP_LEDGER_HERE = ("keep the ledger where only this user or root can write (this host's state "
                     "folder, the default without [ledger] url: `provenance ledger move` takes one out "
                     "of the show folder), or in PostgreSQL")


def _for_gate(config: Config) -> LedgerChoice:
    """`choose`, with the SQLite file the gate would read (also the one [ledger] url names),
    which must exist (see `open_for_gate`)."""
    from provenance.ledger.store import sqlite_file

    chosen = choose(config)
    if chosen.origin == "config":
        chosen = LedgerChoice(chosen.url, chosen.origin, sqlite_file(chosen.url))
    if chosen.exists():
        return chosen
    if chosen.origin == "config":
        raise LedgerError(
            "the show's ledger named in [ledger] url does not exist, and the gate does not start "
            "from an empty one (it would forget every tag and approval the show's ledger holds): "
            "restore it, or correct the URL. A show that really starts its ledger now creates it "
            "on this host by scanning or watching it (`provenance scan`, `provenance watch`)",
            chosen.sqlite_path)
    raise LedgerError(
        "this host has no ledger for the show, and the gate does not start from an empty one "
        "(it would forget every tag and approval the show's ledger holds). Run the gate where "
        "the show's daemon runs, or share one PostgreSQL ledger between the hosts "
        "(`[ledger] url = \"postgresql+psycopg://…\"`, docs/deployment.md)", chosen.sqlite_path)


def move_to_host(config: Config) -> tuple[Path, Path, int]:
    """Move the show-folder ledger to this host's disk: (from, to, events). Copied with
    SQLite's online backup into a temp beside the target, verified (the whole chain, and as
    many events as the original), fsynced, renamed into place; only then is the original
    renamed `ledger.db.moved-<time>` (kept, not deleted). No daemon may be writing: the
    show's watch lock is held throughout."""
    from provenance.ledger import Ledger
    from provenance.tagging.atomic import fsync_dir
    from provenance.watch.lock import LOCK_NAME, DaemonLock

    chosen = choose(config)
    if chosen.origin != "show-folder" or chosen.sqlite_path is None:
        where = ("named in [ledger] url" if chosen.origin == "config"
                 else f"already on this host ({chosen.url})")
        raise ConfigError(f"nothing to move: this show's ledger is {where}", config.file)
    source, target = chosen.sqlite_path, host_ledger_path(config)
    temp = target.with_name(f".{target.name}.moving-{os.getpid()}")
    with DaemonLock(target.parent / LOCK_NAME):  # a running daemon would keep writing the old file
        try:
            with Ledger.open(chosen.url, create=False) as old:
                before = old.verify()
                if not before.ok:
                    raise LedgerError(f"not moving a ledger whose history does not verify "
                                      f"({before.reason}): run `provenance ledger verify`", source)
            src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
            try:
                dst = sqlite3.connect(temp)
                try:
                    src.backup(dst)
                    dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file to rename
                finally:
                    dst.close()
            finally:
                src.close()
            with open(temp, "rb+") as f:
                os.fsync(f.fileno())
            with Ledger.open(f"sqlite:///{temp}", create=False) as copy:
                after = copy.verify()
            if not after.ok or after.rows != before.rows:
                raise LedgerError(f"the copy does not verify as the original ({after.rows} events, "
                                  f"{before.rows} expected; {after.reason}); nothing moved", temp)
            os.replace(temp, target)
        except sqlite3.Error as exc:
            raise LedgerError(f"cannot copy the ledger: {exc}", source) from None
        finally:
            for leftover in temp.parent.glob(f"{temp.name}*"):
                leftover.unlink(missing_ok=True)
        fsync_dir(target.parent)
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        for suffix in ("", "-wal", "-shm"):
            old_file = source.with_name(source.name + suffix)
            if old_file.exists():
                os.replace(old_file, source.with_name(f"{source.name}.moved-{stamp}{suffix}"))
        (target.parent / LEGACY_MARKER).unlink(missing_ok=True)
    return source, target, before.rows


def _guard_in_show(config: Config, url: str) -> None:
    """A SQLite file that [ledger] url puts inside the show folder (the old template's
    `sqlite:///.provenance/ledger.db`) can be deleted by anyone who can write the show: once
    this host has used it, its disappearance is refused like the old default's, never
    answered with a fresh empty ledger."""
    if config.file is None or not url.startswith("sqlite:///"):
        return
    db = Path(url.removeprefix("sqlite:///"))
    if not db.is_absolute() or not db.is_relative_to(config.base_dir):
        return  # on this host's disk, where the operator, not the artists, decides
    try:
        from provenance.host_state import show_dir

        marker = show_dir(config) / LEGACY_MARKER
    except ConfigError as exc:  # no host state folder: nothing to remember with
        log.warning("cannot keep track of the show-folder ledger: %s", exc)
        return
    if db.is_file():
        _remember_legacy(marker, db)
    elif _marker_names(marker, db):
        raise LedgerError(
            f"this host used the show's ledger {db} ([ledger] url), and it is gone: restore it. "
            "Starting an empty ledger would forget every tag and approval it held; if the show "
            f"really starts over, remove {marker}", db)


def _remember_legacy(marker: Path, legacy: Path) -> None:
    if _marker_names(marker, legacy):
        return
    try:
        marker.write_text(f"{legacy}\n")
    except OSError as exc:
        log.warning("cannot remember the show-folder ledger in %s: %s", marker, exc.strerror or exc)


def _marker_names(marker: Path, legacy: Path) -> bool:
    try:
        return marker.read_text().strip() == str(legacy)
    except OSError:
        return False


def _note(message: str) -> None:
    if message not in _noted:  # once per process: a daemon asks on every reload
        _noted.add(message)
        log.warning(message)
