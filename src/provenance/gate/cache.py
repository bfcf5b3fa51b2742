"""The gate's verdict cache: an unchanged file (same dev, inode, size, mtime, ctime) under
unchanged readers is not read again.

This is what makes a second gate over an unchanged package cost a walk plus a lookup per
file instead of a hash and an ExifTool call per file; `--verify-hashes` bypasses it. What
the ledger remembers about a hash is NOT cached: it is recalled fresh on every run. Verdicts
with errors are never cached, so an unreadable file is retried every time.

The cache decides what a file is without reading it, so nothing that can write the show may
write it (issue 10 item 4): it lives in the gate user's private state folder
(`private_state`: 0700, outside every show tree), one SQLite file per show named by a hash
of the show's path, and every row carries an HMAC-SHA256, under a key only that user can
read, over everything the row says (the file's stat key, its sidecars' keys, the readers'
digest and the verdict). A row whose MAC does not verify is a miss, never a hit. Without a
private state folder there is no cache: every file is hashed and read. Deleting the cache
only makes the next run cold.

The key covers everything that decides the readers' answer (`readers_digest`: ExifTool's
version, exiftool.config, signatures.toml, library versions, reader settings), so a verdict
read by a reader that missed a marker is not reused after the reader is fixed.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import sqlite3
from collections.abc import Container, Sequence
from pathlib import Path
from typing import Any

from provenance import sidecars
from provenance.evidence import ReaderSettings, readers_digest
from provenance.identify import StatKey, key_of
from provenance.model import Verdict
from provenance.private_state import private_dir, secret_key

_BESIDE = (sidecars.XMP, sidecars.C2PA)  # what the sidecar and c2pa readers look for beside an asset


def cache_key(path: Path, siblings: Container[str] | None = None,
              st: os.stat_result | None = None) -> tuple[StatKey, str] | None:
    """The asset's stat key plus its possible sidecars' (a sidecar added later changes the verdict).

    `siblings`, the names in the asset's folder, spares a stat per absent sidecar; a listing
    taken earlier in the run is enough: a sidecar that appears later changes the next key.
    `st`, the asset's own `os.stat` taken just before by the caller, spares a second one.
    """
    name = str(path)
    try:
        key = key_of(os.stat(name) if st is None else st)
    except OSError:
        return None
    aux: list[StatKey | None] = []
    for suffix in _BESIDE:
        for candidate in sidecars.candidates(name, suffix):
            if siblings is not None and os.path.basename(candidate) not in siblings:
                aux.append(None)
                continue
            try:
                aux.append(key_of(os.stat(candidate)))
            except OSError:
                aux.append(None)
    return key, repr(aux)


def settings_digest(settings: ReaderSettings, readers: Sequence[str]) -> str:
    """Everything besides the bytes that can change a verdict (see `readers_digest`)."""
    return readers_digest(settings, readers)


KEY_FILE = "gate-cache.key"
BUSY_TIMEOUT_S = 5.0  # another gate of the same show writing its rows
log = logging.getLogger(__name__)
_TABLE = "verdicts_v2"  # a MAC column since v2; older tables (inside show trees) are never read


def cache_file(show: Path) -> Path:
    """This show's cache, in the private state folder: named by the show's real path."""
    name = hashlib.sha256(os.fsencode(os.path.realpath(show))).hexdigest()[:32]
    return private_dir("gate-cache") / f"{name}.db"


def open_cache(show: Path, settings: str) -> VerdictCache:
    """The verdict cache for `show` under readers digest `settings`.

    PrivateStateUnavailable when this user has no private state folder (then run without a
    cache); OSError or sqlite3.Error when the cache file cannot be opened.
    """
    return VerdictCache(cache_file(show), settings, secret_key(KEY_FILE))


Row = tuple[int, int, int, int, int, str, str, str]  # stat key, settings, aux, verdict JSON


def row_mac(key: bytes, row: Row) -> str:
    """HMAC-SHA256 over every column of a cache row, unambiguously encoded: the five integers
    joined by ":", then settings and aux each prefixed by its length, then the verdict JSON.
    (A JSON array of the row said the same at 5x the cost: on a warm gate this runs once
    per file.)"""
    dev, inode, size, mtime, ctime, settings, aux, verdict = row
    text = f"{dev}:{inode}:{size}:{mtime}:{ctime}:{len(settings)}:{settings}{len(aux)}:{aux}{verdict}"
    return hmac.digest(key, text.encode(), "sha256").hex()


class VerdictCache:
    def __init__(self, file: Path, settings: str, key: bytes) -> None:
        self.settings = settings
        self._key = key
        self._db = sqlite3.connect(file, timeout=BUSY_TIMEOUT_S)
        self._db.execute(f"CREATE TABLE IF NOT EXISTS {_TABLE} (dev INTEGER, inode INTEGER, "
                         "size INTEGER, mtime_ns INTEGER, ctime_ns INTEGER, settings TEXT, aux TEXT, "
                         "verdict TEXT, mac TEXT, PRIMARY KEY (dev, inode, settings))")
        rows = self._db.execute("SELECT dev, inode, size, mtime_ns, ctime_ns, aux, verdict, mac "
                                f"FROM {_TABLE} WHERE settings = ?", (settings,))
        self._rows: dict[tuple[int, int], tuple[StatKey, str, str, str]] = {
            (r[0], r[1]): (tuple(r[:5]), r[5], r[6], r[7]) for r in rows}
        self._pending: list[tuple[Any, ...]] = []

    def holds(self, dev: int, inode: int) -> bool:
        """Whether anything is cached for this file at all (a miss needs no full key)."""
        return (dev, inode) in self._rows

    def get(self, key: tuple[StatKey, str], **fields: Any) -> Verdict | None:
        """The cached verdict for `key`, with `fields` (path, link_target) set on the way in."""
        stat, aux = key
        hit = self._rows.get((stat[0], stat[1]))
        if hit is None or hit[0] != stat or hit[1] != aux:  # anything changed: read the bytes again
            return None
        row: Row = (*stat, self.settings, aux, hit[2])
        if not isinstance(hit[3], str) or not hmac.compare_digest(row_mac(self._key, row), hit[3]):
            return None  # not written by this user's gate (or edited since): read the bytes
        return Verdict.from_dict({**json.loads(hit[2]), **fields})

    def put(self, key: tuple[StatKey, str], verdict: Verdict) -> None:
        if verdict.errors or verdict.sha256 is None:
            return
        row: Row = (*key[0], self.settings, key[1], json.dumps(verdict.to_dict()))
        self._pending.append((*row, row_mac(self._key, row)))

    def close(self) -> None:
        """Keep what this run read. A cache that cannot be written (another gate holding it
        longer than the busy timeout, a full disk) only makes the next run slower: never an
        error for the run whose decision is already made."""
        try:
            if self._pending:
                with self._db:
                    self._db.executemany(f"INSERT OR REPLACE INTO {_TABLE} "
                                         "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", self._pending)
        except sqlite3.Error as exc:
            log.warning("gate: verdict cache not updated (%s): the next run reads these files again", exc)
        finally:
            self._db.close()
