"""The gate's verdict cache: an unchanged file (same dev, inode, size, mtime, ctime, same
sidecars) under unchanged readers is not read again, and one that cleared with nothing to say
under an unchanged decision context is not judged again either.

This is what makes a second gate over an unchanged package cost a walk plus a lookup per
file instead of a hash and an ExifTool call per file; `--verify-hashes` bypasses it. Verdicts
with errors are never cached, so an unreadable file is retried every time.

The cache decides what a file is without reading it, so nothing that can write the show may
write it (issue 10 item 4): it lives in the gate user's private state folder
(`private_state`: 0700, outside every show tree), one file per show named by a hash of the
show's path. The file is one blob authenticated as a whole: an HMAC-SHA256, under a key only
that user can read, over the show's real path, the readers' digest and every row. A blob whose
MAC does not verify, or that names another show or other readers, is not read at all: the run
is cold, never less safe. (One MAC per row cost 8 µs a file on a warm gate; one over the blob
costs 0.3 µs.) Without a private state folder there is no cache.

A row's `clear` part is a *decision*, not only a verdict: the file cleared with no finding,
note, memory or approval under `context` (`gate.context`: everything besides the bytes that
can change a decision — policy, config, readers, trust files, the ledger's memory generation).
It is used only under the same context and the same reported name; anything else judges the
cached verdict again. Files that did not clear that way are always judged again (their
approvals, expiries and revocations are looked up fresh every run).

The readers' digest (`readers_digest`: ExifTool's version, exiftool.config, signatures.toml,
library versions, reader settings) keys the whole blob, so a verdict read by a reader that
missed a marker is not reused after the reader is fixed.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import marshal
import os
import stat
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import Any, Final, NamedTuple

from provenance import sidecars
from provenance._os import temp_path
from provenance.evidence import ReaderSettings, readers_digest
from provenance.identify import StatKey, key_of
from provenance.model import Verdict
from provenance.private_state import private_dir, secret_key

BESIDE = (sidecars.XMP, sidecars.C2PA)  # what the sidecar and c2pa readers look for beside an asset
NO_SIDECARS = "()"  # the aux of a file with no sidecar beside it (most files)


def aux_key(name: str, sidecar_names: Collection[str] | None = None) -> str:
    """The stat keys of the sidecars that exist beside `name` (a sidecar added, changed or
    removed later changes this, so the file is read again).

    `sidecar_names`: the names ending in a sidecar suffix in the asset's folder (from a
    listing taken earlier in the run); an empty one spares every candidate's stat, None stats
    each candidate."""
    if sidecar_names is not None and not sidecar_names:
        return NO_SIDECARS
    found: list[tuple[str, StatKey]] = []
    for suffix in BESIDE:
        for candidate in sidecars.candidates(name, suffix):
            if sidecar_names is not None and os.path.basename(candidate) not in sidecar_names:
                continue
            try:
                found.append((os.path.basename(candidate), key_of(os.stat(candidate))))
            except OSError:
                continue
    return repr(tuple(found)) if found else NO_SIDECARS


def cache_key(path: str | os.PathLike[str], sidecar_names: Collection[str] | None = None,
              st: os.stat_result | None = None) -> tuple[StatKey, str] | None:
    """The asset's stat key plus its sidecars' (`aux_key`); None when the asset cannot be
    stat'ed. `st`, the asset's own `os.stat` taken just before by the caller, spares a second."""
    name = os.fspath(path)
    try:
        key = key_of(os.stat(name) if st is None else st)
    except OSError:
        return None
    return key, aux_key(name, sidecar_names)


def settings_digest(settings: ReaderSettings, readers: Sequence[str]) -> str:
    """Everything besides the bytes that can change a verdict (see `readers_digest`)."""
    return readers_digest(settings, readers)


KEY_FILE = "gate-cache.key"
MAGIC = b"provenance-gate-cache/4\n"  # v1/v2 were SQLite files (.db), v3 kept a body per row
log = logging.getLogger(__name__)


_OWN = ("path", "sha256", "size")  # a verdict's own fields, kept in its row, not in its body


class Clear(NamedTuple):
    """A decision kept with a row: cleared with nothing to say, under `context`, as `relpath`."""

    context: str
    relpath: str
    format: str
    classification: str
    generator: str | None


# A row, as a plain tuple (200,000 of them are loaded per warm run: no object per row):
# (size, mtime_ns, ctime_ns, aux, sha256, index of its verdict's body, Clear-as-tuple or None).
# A verdict's body is its JSON without path, sha256 and size, kept once however many files
# share it (a package's plain files mostly do): loading 200,000 verdicts of their own cost
# 3 µs a file in marshal alone.
Row = tuple[int, int, int, str, str, int, tuple[str, str, str, str, str | None] | None]
SIZE: Final = 0
MTIME: Final = 1
CTIME: Final = 2
AUX: Final = 3
SHA256: Final = 4
BODY: Final = 5
CLEAR: Final = 6


def cache_file(show: Path) -> Path:
    """This show's cache, in the private state folder: named by the show's real path."""
    name = hashlib.sha256(os.fsencode(os.path.realpath(show))).hexdigest()[:32]
    return private_dir("gate-cache") / f"{name}.v4"


def open_cache(show: Path, settings: str) -> VerdictCache:
    """The verdict cache for `show` under readers digest `settings`.

    PrivateStateUnavailable when this user has no private state folder (then run without a
    cache); OSError when the folder cannot be read.
    """
    return VerdictCache(cache_file(show), settings, secret_key(KEY_FILE), os.path.realpath(show))


def blob_mac(key: bytes, payload: bytes) -> bytes:
    """HMAC-SHA256 over the magic and the payload (the payload names the show and readers)."""
    return hmac.digest(key, MAGIC + payload, "sha256")


def _read_private(file: Path) -> bytes | None:
    """The file's bytes, if it is a regular file of ours (None when there is none)."""
    try:
        fd = os.open(file, os.O_RDONLY | os.O_NOFOLLOW)
    except FileNotFoundError:
        return None
    with os.fdopen(fd, "rb") as fh:
        st = os.fstat(fh.fileno())
        if not stat.S_ISREG(st.st_mode) or st.st_uid != os.geteuid():
            return None
        return fh.read()


class VerdictCache:
    def __init__(self, file: Path, settings: str, key: bytes, show: str) -> None:
        self.file = file
        self.settings = settings
        self.show = show
        self._key = key
        self._dirty = False
        self.bodies: list[str] = []
        self.rows: dict[tuple[int, int], Row] = self._load()
        self._body_index: dict[str, int] | None = None  # made when a verdict is first put

    def _load(self) -> dict[tuple[int, int], Row]:
        try:
            blob = _read_private(self.file)
        except OSError as exc:
            log.warning("gate: verdict cache unreadable (%s): reading every file", exc)
            return {}
        if blob is None:
            return {}
        mac, payload = blob[len(MAGIC):len(MAGIC) + 32], blob[len(MAGIC) + 32:]
        if not blob.startswith(MAGIC) or not hmac.compare_digest(mac, blob_mac(self._key, payload)):
            log.warning("gate: verdict cache %s does not verify (not written by this user's gate, or "
                        "edited since): reading every file", self.file)
            return {}
        # marshal only after the MAC verified: these are bytes this user's gate wrote.
        try:
            show, settings, bodies, rows = marshal.loads(payload)
        except (ValueError, TypeError, EOFError):  # written by a gate of another shape: cold
            return {}
        if show != self.show or settings != self.settings:  # another show's blob, or other readers
            return {}
        self.bodies = bodies
        return rows  # type: ignore[no-any-return]

    def lookup(self, st: os.stat_result) -> Row | None:
        """The row of this file if its stat key is unchanged (its sidecars are the caller's)."""
        row = self.rows.get((st.st_dev, st.st_ino))
        if row is None or row[SIZE] != st.st_size or row[MTIME] != st.st_mtime_ns \
                or row[CTIME] != st.st_ctime_ns:
            return None
        return row

    def get(self, key: tuple[StatKey, str], **fields: Any) -> Verdict | None:
        """The cached verdict for `key`, with `fields` (path, link_target) set on the way in."""
        stat_key, aux = key
        row = self.rows.get((stat_key[0], stat_key[1]))
        if row is None or row[:3] != stat_key[2:] or row[AUX] != aux:
            return None
        return self.verdict(row, **fields)

    def put(self, key: tuple[StatKey, str], verdict: Verdict) -> None:
        if verdict.errors or verdict.sha256 is None:
            return
        stat_key, aux = key
        body = json.dumps({k: v for k, v in verdict.to_dict().items() if k not in _OWN})
        if self._body_index is None:
            self._body_index = {b: i for i, b in enumerate(self.bodies)}
        index = self._body_index.get(body)
        if index is None:
            index = self._body_index[body] = len(self.bodies)
            self.bodies.append(body)
        self.rows[stat_key[0], stat_key[1]] = (*stat_key[2:], aux, verdict.sha256, index, None)
        self._dirty = True

    def verdict(self, row: Row, **fields: Any) -> Verdict:
        """The row's verdict, with `fields` (path, link_target) set."""
        return Verdict.from_dict({**json.loads(self.bodies[row[BODY]]), "sha256": row[SHA256],
                                  "size": row[SIZE], **fields})

    def mark_clear(self, dev_ino: tuple[int, int], sha256: str | None, clear: Clear) -> None:
        """Keep that the file with this row cleared with nothing to say under `clear.context`
        (only if the row still holds the bytes that were judged)."""
        row = self.rows.get(dev_ino)
        if row is None or row[SHA256] != sha256 or row[CLEAR] == tuple(clear):
            return
        self.rows[dev_ino] = (*row[:CLEAR], (clear.context, clear.relpath, clear.format, clear.classification,
                                             clear.generator))
        self._dirty = True

    def close(self) -> None:
        """Keep what this run learned (one blob, replaced atomically). A cache that cannot be
        written (a full disk) only makes the next run slower: never an error for the run whose
        decision is already made. Not fsynced: a torn blob fails its MAC, so the next run is
        cold, never wrong."""
        if not self._dirty:
            return
        # Bodies no row refers to any more are kept: few, and dropping them renumbers every row.
        payload = marshal.dumps((self.show, self.settings, self.bodies, self.rows))
        tmp = temp_path(self.file)
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
            with os.fdopen(fd, "wb") as fh:
                fh.write(MAGIC + blob_mac(self._key, payload) + payload)
            os.replace(tmp, self.file)
        except OSError as exc:
            log.warning("gate: verdict cache not updated (%s): the next run reads these files again", exc)
        finally:
            tmp.unlink(missing_ok=True)
