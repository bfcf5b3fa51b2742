"""A long-lived ExifTool (`-stay_open`, via pyexiftool) per reader, with a per-file time
limit, restart on death, and no argument injection.

Each reader owns its process (started on first use) rather than sharing one per Python
process: the daemon's and the gate's worker threads each hold their own Inspector, and one
shared process behind a lock made them wait on each other (watch throughput stalled near
140 files/s whatever the worker count).

Why the extra machinery around pyexiftool:
- pyexiftool's read loop never times out and spins forever on EOF when ExifTool dies. A
  monitor thread kills a process that runs past its deadline (or has died) and replaces its
  stdout/stderr descriptors with a directory descriptor: the blocked `os.read` then fails at
  once with EISDIR, without freeing the descriptor number for reuse by another open().
- A file can make ExifTool inflate far more than it holds (a 1 MB PNG whose zTXt inflates to
  1 GiB took it to 4.2 GB and sent 1 GiB of JSON back). While a call runs, the monitor also
  reads the process's resident memory and the bytes it has written (/proc) and kills it past
  MEMORY_LIMIT or OUTPUT_LIMIT: the read fails with that reason, never a half answer. An
  address-space rlimit is the backstop for growth faster than the monitor looks.
- The stay_open protocol is one argument per line, so a newline in a file name would split
  it into two arguments, and a name starting with `-` would be an option. Paths are always
  absolute (start with `/`), and any name with control characters or bytes that are not
  UTF-8 is read through a symlink with a safe name in a private temporary folder.
"""

from __future__ import annotations

import atexit
import contextlib
import itertools
import json
import os
import resource
import shutil
import tempfile
import threading
import time
import warnings
from collections.abc import Sequence
from importlib.resources import files
from pathlib import Path
from typing import Any

from exiftool import ExifToolHelper

# We detect and replace a dead process ourselves; pyexiftool's warning would only be noise.
warnings.filterwarnings("ignore", message="ExifTool process was previously running but died")

CONFIG_FILE = Path(str(files("provenance") / "data" / "exiftool.config"))

# -G1: family-1 groups ("XMP-iptcExt:DigitalSourceType"); -a: keep duplicate tags;
# -n: raw values, no print conversion — machine-stable values, and DigitalSourceType URIs are
# raw either way; LargeFileSupport: ExifTool 12.57 misses XMP after a >2 GB mdat without it;
# -e: no Composite tags. They are computed from tags that are reported anyway (image size,
# GPS position, lens, shutter speed; the thumbnail and MP image placeholders of IFD1/MPF are
# composites too) and nothing reads them, but building them was about a third of ExifTool's
# CPU per file (NYTProf, 12.57: BuildCompositeTags walks every composite definition for
# every file, even one it cannot type). Every corpus file judges the same with and without.
COMMON_ARGS = ("-G1", "-a", "-n", "-j", "-e", "-api", "LargeFileSupport=1")

MEMORY_LIMIT = 512 * 1024 * 1024  # resident bytes; ExifTool reads multi-GB video in ~30 MB
OUTPUT_LIMIT = 64 * 1024 * 1024  # bytes written per call (a ComfyUI graph is ~100 KB)
_ADDRESS_SPACE_LIMIT = 4 * MEMORY_LIMIT  # backstop: Perl reserves more than it touches
_POLL_S = 0.02


class ExifToolFailure(Exception):
    """ExifTool could not read one file; `reason` says why in words."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


def _needs_link(raw: bytes) -> bool:
    if any(b < 0x20 or b == 0x7F for b in raw):
        return True
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


class ExifToolProcess:
    """A stay_open ExifTool with a deadline per call. Thread-safe (calls are serialised)."""

    def __init__(self, config_file: Path = CONFIG_FILE, *, memory_limit: int = MEMORY_LIMIT,
                 output_limit: int = OUTPUT_LIMIT) -> None:
        self._config = config_file
        self.memory_limit = memory_limit
        self.output_limit = output_limit
        self._written_at_start: int | None = None
        self._helper: ExifToolHelper | None = None
        self._call_lock = threading.Lock()
        self._cond = threading.Condition()
        self._deadline: float | None = None
        self._aborted: str | None = None
        self._stopped = False
        self._linkdir: Path | None = None
        self._counter = itertools.count()
        self.restarts = 0
        self._monitor = threading.Thread(target=self._watch, name="exiftool-monitor", daemon=True)
        self._monitor.start()

    # -- lifecycle ---------------------------------------------------------------------------

    def _start(self) -> ExifToolHelper:
        if self._helper is None:
            if shutil.which("exiftool") is None:
                raise ExifToolFailure("ExifTool is not installed (run ./dev setup)")
            self._helper = ExifToolHelper(common_args=list(COMMON_ARGS),
                                          config_file=str(self._config), check_execute=False)
            self._helper.run()  # started here, not on first execute, so the rlimit applies
            proc = getattr(self._helper, "_process", None)
            if proc is not None:
                with contextlib.suppress(OSError, ValueError):
                    limit = max(_ADDRESS_SPACE_LIMIT, 4 * self.memory_limit)
                    resource.prlimit(proc.pid, resource.RLIMIT_AS, (limit, limit))
        return self._helper

    def _discard(self) -> None:
        """Drop a killed or broken process without pyexiftool's blocking goodbye."""
        helper, self._helper = self._helper, None
        if helper is None:
            return
        proc = getattr(helper, "_process", None)
        if proc is not None:
            with contextlib.suppress(OSError):
                proc.kill()
            for pipe in (proc.stdin, proc.stdout, proc.stderr):
                with contextlib.suppress(OSError, ValueError):
                    if pipe is not None:
                        pipe.close()
            with contextlib.suppress(Exception):
                proc.wait(timeout=5)
            helper._process = None
        with contextlib.suppress(Exception):
            helper._flag_running_false()

    def close(self) -> None:
        with self._call_lock:
            with self._cond:
                self._stopped = True
                self._cond.notify_all()
            helper = self._helper
            if helper is not None:
                with contextlib.suppress(Exception):
                    helper.terminate(timeout=5)
                self._helper = None
                self._discard()
            if self._linkdir is not None:
                shutil.rmtree(self._linkdir, ignore_errors=True)
                self._linkdir = None

    # -- the deadline monitor ----------------------------------------------------------------

    def _watch(self) -> None:
        with self._cond:
            while not self._stopped:
                if self._deadline is None:
                    self._cond.wait()
                    continue
                helper = self._helper
                proc = getattr(helper, "_process", None) if helper is not None else None
                now = time.monotonic()
                if now >= self._deadline:
                    self._abort(proc, "timeout")
                elif proc is not None and proc.poll() is not None:
                    self._abort(proc, "died")
                elif proc is not None and (over := self._over_limit(proc.pid)):
                    self._abort(proc, over)
                else:
                    self._cond.wait(min(self._deadline - now, _POLL_S))

    def _over_limit(self, pid: int) -> str | None:
        """"memory" or "output" when the running call went past a limit, else None."""
        peak, written = _usage(pid)
        if peak is not None and peak > self.memory_limit:
            return "memory"
        if written is not None:
            if self._written_at_start is None:
                self._written_at_start = written
            elif written - self._written_at_start > self.output_limit:
                return "output"
        return None

    def _abort(self, proc: Any, why: str) -> None:
        self._aborted = why
        self._deadline = None
        if proc is None:
            return
        with contextlib.suppress(OSError):
            proc.kill()
        dfd = os.open("/", os.O_RDONLY)
        try:
            for pipe in (proc.stdout, proc.stderr):
                with contextlib.suppress(OSError, ValueError):
                    os.dup2(dfd, pipe.fileno())
        finally:
            os.close(dfd)

    # -- reading -----------------------------------------------------------------------------

    def _safe_arg(self, path: Path) -> tuple[bytes, Path | None]:
        raw = os.fsencode(os.path.abspath(path))
        if not _needs_link(raw):
            return raw, None
        if self._linkdir is None:
            self._linkdir = Path(tempfile.mkdtemp(prefix="provenance-exiftool-"))
            atexit.register(shutil.rmtree, self._linkdir, True)
        suffix = "".join(c for c in path.suffix if c.isascii() and (c.isalnum() or c == "."))
        link = self._linkdir / f"f{next(self._counter)}{suffix[:10]}"
        os.symlink(os.path.abspath(path), link)
        return os.fsencode(link), link

    def read(self, path: Path, time_limit_s: float, *tags: str) -> dict[str, Any]:
        """All tags of one file as a flat {"Group:Tag": value} dict (minus SourceFile)."""
        with self._call_lock:
            arg, link = self._safe_arg(path)
            try:
                stdout, stderr = self._execute([*(f"-{t}".encode() for t in tags), arg], time_limit_s)
            finally:
                if link is not None:
                    link.unlink(missing_ok=True)
        return _parse(stdout, stderr)

    def read_many(self, paths: Sequence[Path], time_limit_s: float) -> list[dict[str, Any] | None]:
        """Tags of several files from ONE `-execute` (the round trip costs more than a small
        file's read). The limit is for the whole batch. A file ExifTool left out of its
        answer (it wrote an error to stderr instead) comes back None: read it alone with
        `read` to learn why. A timeout or a dead process raises ExifToolFailure for the batch.
        """
        with self._call_lock:
            args, links = [], []
            try:
                for path in paths:
                    arg, link = self._safe_arg(path)
                    args.append(arg)
                    if link is not None:
                        links.append(link)
                stdout, _stderr = self._execute(args, time_limit_s)
            finally:
                for link in links:
                    link.unlink(missing_ok=True)
        try:
            data = json.loads(stdout.decode("utf-8", "replace")) if stdout.strip() else []
        except json.JSONDecodeError as exc:
            raise ExifToolFailure(f"ExifTool output was not JSON ({exc.msg})") from None
        by_source: dict[str, dict[str, Any]] = {}
        for entry in data if isinstance(data, list) else ():
            if isinstance(entry, dict) and isinstance(entry.get("SourceFile"), str):
                by_source[entry.pop("SourceFile")] = entry
        return [by_source.get(os.fsdecode(arg)) for arg in args]

    def _execute(self, args: list[bytes], time_limit_s: float) -> tuple[bytes, Any]:
        """One `-execute` under a deadline; a dead process is restarted and the call retried once."""
        for attempt in (1, 2):
            helper = self._start()
            proc = getattr(helper, "_process", None)
            with self._cond:
                self._aborted = None
                self._written_at_start = _usage(proc.pid)[1] if proc is not None else None
                self._deadline = time.monotonic() + time_limit_s
                self._cond.notify_all()
            try:
                stdout = helper.execute(*args, raw_bytes=True)
                failure = None
            except Exception as exc:  # EISDIR after an abort, BrokenPipe, protocol errors
                stdout, failure = b"", exc
            finally:
                with self._cond:
                    self._deadline = None
                    aborted = self._aborted
            if aborted is None and failure is None and proc is not None:
                # The last look: a call can finish between two of the monitor's.
                aborted = self._over_limit(proc.pid)
            if aborted is not None or failure is not None:
                self._discard()
                self.restarts += 1
                if aborted == "timeout":
                    raise ExifToolFailure(f"ExifTool timed out after {time_limit_s:g}s "
                                          "(process killed and restarted)")
                if aborted == "memory":
                    raise ExifToolFailure(
                        f"ExifTool went past its memory limit ({self.memory_limit >> 20} MiB) "
                        "reading this file, e.g. data that inflates far beyond its size (a "
                        "decompression bomb); not read (process killed and restarted)")
                if aborted == "output":
                    raise ExifToolFailure(
                        f"ExifTool's answer went past {self.output_limit >> 20} MiB "
                        "(metadata far larger than any real file's, e.g. inflated text); "
                        "not read (process killed and restarted)")
                if attempt == 1:
                    continue  # a dead process: restart once and retry
                raise ExifToolFailure(f"ExifTool failed ({aborted or failure!r})")
            return bytes(stdout), helper.last_stderr
        raise AssertionError("unreachable")


def _usage(pid: int) -> tuple[int | None, int | None]:
    """(peak resident bytes, bytes written so far) of a process, from /proc; None where unknown.
    The peak (VmHWM), not the current size, so growth between two looks is not missed."""
    peak = written = None
    with contextlib.suppress(OSError, ValueError, IndexError), open(f"/proc/{pid}/status", "rb") as fh:
        for line in fh:
            if line.startswith(b"VmHWM:"):
                peak = int(line.split()[1]) * 1024
    with contextlib.suppress(OSError, ValueError), open(f"/proc/{pid}/io", "rb") as fh:
        for line in fh:
            if line.startswith(b"wchar:"):
                written = int(line.split()[1])
    return peak, written


def _parse(stdout: Any, stderr: Any) -> dict[str, Any]:
    text = stdout.decode("utf-8", "replace") if isinstance(stdout, bytes) else str(stdout)
    err = stderr.decode("utf-8", "replace") if isinstance(stderr, bytes) else str(stderr or "")
    if not text.strip():
        reason = err.strip().splitlines()[0] if err.strip() else "no output"
        raise ExifToolFailure(f"ExifTool: {reason.removeprefix('Error: ')}")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ExifToolFailure(f"ExifTool output was not JSON ({exc.msg})") from None
    if not data or not isinstance(data[0], dict):
        raise ExifToolFailure("ExifTool returned nothing")
    tags: dict[str, Any] = data[0]
    tags.pop("SourceFile", None)
    return tags
