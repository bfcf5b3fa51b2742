"""The one walk of a tree, shared by `inspect` (`pipeline.iter_files`), `scan` and the daemon's
reconcile (`watch.reconcile`) and the gate (`gate.walk`).

One rule set for all of them:
- every file below a named folder is yielded, in name order, folder by folder (a folder's
  files before its sub-folders); a named file is yielded as it is;
- a genuine sidecar (`provenance.sidecars.is_sidecar`) is skipped, nothing else is, unless
  the caller prunes folders or skips names (its ignore rules);
- a folder that cannot be entered is yielded as an entry with its `problem`, never dropped:
  an AI file in a folder the walker may not read must not read as "nothing there";
- symlinks to folders inside the tree are yielded (reported), not followed: a loop must not
  hang a walk. A named root that is a symlink to a folder is followed once, with a warning;
- no recursion (a folder 1,100 levels deep is walked like any other) and relative names are
  built by joining strings as the walk descends, never by re-deriving them from the path.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable, Iterator
from operator import attrgetter
from typing import NamedTuple

from provenance.pathtext import shown
from provenance.sidecars import SIDECAR_SUFFIXES, is_sidecar

log = logging.getLogger(__name__)

Predicate = Callable[[str], bool]
_by_name = attrgetter("name")


class Entry(NamedTuple):  # a tuple: built once per file, so it must be cheap
    path: str  # as found: an OS path (a symlink stays a symlink; a non-UTF-8 name stays as the OS gave it)
    rel: str  # relative to `root`, "/"-separated ("" for the root folder itself)
    root: str  # the named folder it was found under, or a named file's own folder
    problem: str | None = None  # set for a folder that could not be read: why
    link: bool | None = None  # a symlink (known from the listing, no lstat); None: not looked at


def walk(paths: Iterable[str | os.PathLike[str]], *, approvals_dir: str = "",
         prune: Predicate | None = None, skip: Predicate | None = None) -> Iterator[Entry]:
    """Every entry below `paths` (see the module docstring).

    `prune(folder_path)` true: do not descend into that folder. `skip(file_path)` true: do
    not yield that file. Both are the caller's ignore rules (the show's state folder,
    ignore zones); the sidecar rule is the walk's own.
    """
    for raw in paths:
        top = os.fspath(raw)
        if not os.path.isdir(top):
            yield Entry(top, os.path.basename(top), os.path.dirname(top) or ".")
            continue
        if os.path.islink(top):
            log.warning("%s is a symlink to the folder %s: walking that folder", shown(top),
                        shown(os.path.realpath(top)))
        yield from _walk_folder(top, approvals_dir, prune, skip)


def _is_link(e: os.DirEntry[str]) -> bool | None:
    try:
        return e.is_symlink()  # from the listing's d_type: no system call on Linux filesystems
    except OSError:
        return None  # the caller asks again (and the reader reports why)


def _walk_folder(top: str, approvals_dir: str, prune: Predicate | None,
                 skip: Predicate | None) -> Iterator[Entry]:
    stack: list[tuple[str, str]] = [(top, "")]  # (folder, its relative name with a trailing "/")
    while stack:
        folder, rel = stack.pop()
        try:
            with os.scandir(folder) as it:
                entries = sorted(it, key=_by_name)
        except OSError as exc:
            reason = f"cannot read folder: {exc.strerror or exc}"
            log.error("%s: %s", shown(folder), reason)
            yield Entry(folder, rel.rstrip("/"), top, problem=reason)
            continue
        names = frozenset(e.name for e in entries)
        below: list[tuple[str, str]] = []
        for e in entries:
            try:
                is_folder = e.is_dir(follow_symlinks=False)
            except OSError:
                is_folder = False  # gone or unstatable: yielded, and the reader says why
            if is_folder:
                if prune is None or not prune(e.path):
                    below.append((e.path, f"{rel}{e.name}/"))
            elif skip is not None and skip(e.path):
                continue
            elif not (e.name.endswith(SIDECAR_SUFFIXES) and is_sidecar(e.path, approvals_dir, names)):
                yield Entry(e.path, rel + e.name, top, link=_is_link(e))
        stack.extend(reversed(below))
