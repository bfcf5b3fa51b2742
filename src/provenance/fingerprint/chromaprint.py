"""Chromaprint from samples we already decoded: libchromaprint through ctypes.

`fpcalc` decodes the file a second time in a process of its own (~40 % of an audio
fingerprint's time); feeding the library the samples of our one PyAV decode gives the same
raw sub-fingerprints (measured on the corpus's sounds: bit for bit equal, one file one item
longer at its start) at no decode cost. Debian's `libchromaprint1` (a dependency of
`libchromaprint-tools`, which ./dev setup installs) provides the library.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import threading
from types import TracebackType

import numpy as np

from provenance.errors import ProvenanceError

_ALGORITHM = 1  # CHROMAPRINT_ALGORITHM_TEST2, the library's and fpcalc's default
_lock = threading.Lock()
_lib: ctypes.CDLL | None = None


class ChromaprintMissing(ProvenanceError):
    pass


def _library() -> ctypes.CDLL:
    global _lib
    with _lock:
        if _lib is None:
            name = ctypes.util.find_library("chromaprint") or "libchromaprint.so.1"
            try:
                lib = ctypes.CDLL(name)
            except OSError:
                raise ChromaprintMissing("libchromaprint (Debian package libchromaprint1) is needed to "
                                         "fingerprint audio and is not installed") from None
            lib.chromaprint_new.restype = ctypes.c_void_p
            lib.chromaprint_new.argtypes = [ctypes.c_int]
            lib.chromaprint_free.argtypes = [ctypes.c_void_p]
            lib.chromaprint_start.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_int]
            lib.chromaprint_feed.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int]
            lib.chromaprint_finish.argtypes = [ctypes.c_void_p]
            items = ctypes.POINTER(ctypes.POINTER(ctypes.c_uint32))
            lib.chromaprint_get_raw_fingerprint.argtypes = [ctypes.c_void_p, items,
                                                            ctypes.POINTER(ctypes.c_int)]
            lib.chromaprint_dealloc.argtypes = [ctypes.c_void_p]
            _lib = lib
        return _lib


class Chromaprint:
    """One fingerprint: `feed` interleaved int16 samples, then `finish` for the raw items."""

    def __init__(self, rate: int, channels: int) -> None:
        self._lib = _library()
        self._ctx = self._lib.chromaprint_new(_ALGORITHM)
        if not self._ctx or not self._lib.chromaprint_start(self._ctx, rate, channels):
            self.close()
            raise ValueError(f"chromaprint cannot take {channels} channel(s) at {rate} Hz")

    def feed(self, samples: np.ndarray) -> None:
        data = np.ascontiguousarray(samples, dtype=np.int16)
        if data.size and not self._lib.chromaprint_feed(self._ctx, data.ctypes.data, data.size):
            raise ValueError("chromaprint refused the samples")

    def finish(self) -> tuple[int, ...]:
        """The raw sub-fingerprints; () for a sound shorter than chromaprint's window."""
        if not self._lib.chromaprint_finish(self._ctx):
            return ()
        items = ctypes.POINTER(ctypes.c_uint32)()
        size = ctypes.c_int()
        if not self._lib.chromaprint_get_raw_fingerprint(self._ctx, ctypes.byref(items), ctypes.byref(size)):
            return ()
        try:
            return tuple(int(items[i]) for i in range(size.value))
        finally:
            self._lib.chromaprint_dealloc(items)

    def close(self) -> None:
        if self._ctx:
            self._lib.chromaprint_free(self._ctx)
            self._ctx = None

    def __enter__(self) -> Chromaprint:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()
