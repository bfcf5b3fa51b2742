"""IMF tests: a real package (ffmpeg's MXF track files) in a show with a real config and ledger."""

from __future__ import annotations

import shutil

import pytest

from tests.gate.conftest import Show, show  # noqa: F401  (a show folder with a real config and ledger)
from tests.imf.build import Built, Track, audio_mxf, video_mxf, write_package


@pytest.fixture(scope="session")
def media_tools() -> None:
    for tool in ("ffmpeg", "exiftool"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed (./dev setup installs it)")


@pytest.fixture
def imp(show: Show, media_tools: None) -> Built:  # noqa: F811
    """A two-second package: one picture and one sound track file, one segment."""
    video_mxf(show.pkg / "EP101_V01.mxf")
    audio_mxf(show.pkg / "EP101_A01.mxf")
    tracks = [Track("EP101_V01.mxf", "MainImageSequence", 48),
              Track("EP101_A01.mxf", "MainAudioSequence", 96000, "48000 1")]
    return write_package(show.pkg, tracks, [[("EP101_V01.mxf", 0, 48), ("EP101_A01.mxf", 0, 96000)]])
