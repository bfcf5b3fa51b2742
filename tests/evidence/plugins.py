"""Test-only readers that misbehave, to prove the pipeline contains them."""

from __future__ import annotations

import threading

from provenance.evidence import ReaderOutput, ReaderSettings
from provenance.model import Asset


class Boom:
    name = "boom"

    def __init__(self, settings: ReaderSettings) -> None:
        pass

    def read(self, asset: Asset) -> ReaderOutput:
        raise RuntimeError("reader bug")

    def close(self) -> None:
        pass


class Stuck:
    """Hangs on files named `hang*` until released; fine on everything else."""

    name = "stuck"
    release = threading.Event()

    def __init__(self, settings: ReaderSettings) -> None:
        pass

    def read(self, asset: Asset) -> ReaderOutput:
        if asset.path.name.startswith("hang"):
            self.release.wait(30)
        return ReaderOutput()

    def close(self) -> None:
        pass


class Forever:
    """A read that never returns (a wedged network mount, a C library stuck in a loop)."""

    name = "forever"

    def __init__(self, settings: ReaderSettings) -> None:
        pass

    def read(self, asset: Asset) -> ReaderOutput:
        threading.Event().wait()  # nothing ever sets it
        return ReaderOutput()

    def close(self) -> None:
        threading.Event().wait()  # nor does closing it end


class NeverStarts:
    """A reader whose construction never returns (a library initialising against a dead server)."""

    name = "never-starts"

    def __init__(self, settings: ReaderSettings) -> None:
        threading.Event().wait()

    def read(self, asset: Asset) -> ReaderOutput:
        return ReaderOutput()

    def close(self) -> None:
        pass
