"""IMF tests: a real package (ffmpeg's MXF track files) in a show with a real config and ledger."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.gate.conftest import Show, show  # noqa: F401  (a show folder with a real config and ledger)
from tests.imf.build import Built, Track, audio_mxf, still_mxf, video_mxf, write_package


@pytest.fixture(scope="session")
def media_tools() -> None:
    for tool in ("ffmpeg", "exiftool"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed (./dev setup installs it)")


@pytest.fixture(scope="session")
def track_files(tmp_path_factory: pytest.TempPathFactory, media_tools: None, corpus_dir: Path) -> Path:
    """Track files made once per run (ffmpeg is most of a package's cost); tests copy them."""
    folder = tmp_path_factory.mktemp("track-files")
    video_mxf(folder / "V.mxf")
    audio_mxf(folder / "A.mxf")
    still_mxf(corpus_dir / "d13_invokeai.png", folder / "SKY.mxf")  # the bytes `scan` remembers as AI
    return folder


@pytest.fixture
def imp(show: Show, track_files: Path) -> Built:  # noqa: F811
    """A two-second package: one picture and one sound track file, one segment."""
    shutil.copyfile(track_files / "V.mxf", show.pkg / "EP101_V01.mxf")
    shutil.copyfile(track_files / "A.mxf", show.pkg / "EP101_A01.mxf")
    tracks = [Track("EP101_V01.mxf", "MainImageSequence", 48),
              Track("EP101_A01.mxf", "MainAudioSequence", 96000, "48000 1")]
    return write_package(show.pkg, tracks, [[("EP101_V01.mxf", 0, 48), ("EP101_A01.mxf", 0, 96000)]])


def valid_gate_report(report: dict[str, object]) -> None:
    """The report, packages and masters included, against the shipped gate.v1.json."""
    from jsonschema import Draft202012Validator

    from tests.cli.conftest import registry, schema_for

    Draft202012Validator(schema_for("provenance.gate/v1"), registry=registry()).validate(report)
