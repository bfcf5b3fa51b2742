"""readers_digest: every input of a reader's answer besides the file's bytes changes it."""

from __future__ import annotations

import dataclasses
import os
import shutil
import stat
from pathlib import Path

import pytest

from provenance.evidence import ReaderSettings, readers_digest
from provenance.evidence import digest as digest_mod
from provenance.evidence.registry import DEFAULT_READERS


@pytest.fixture
def data_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The package data in a private copy the digest reads instead (the package stays untouched)."""
    copy = tmp_path / "data"
    shutil.copytree(digest_mod.DATA_DIR, copy)
    monkeypatch.setattr(digest_mod, "DATA_DIR", copy)
    return copy


def test_same_inputs_same_digest() -> None:
    assert readers_digest(ReaderSettings()) == readers_digest(ReaderSettings())
    assert len(readers_digest(ReaderSettings())) == 64


@pytest.mark.parametrize("name", ["signatures.toml", "exiftool.config"])
def test_package_data_bytes_change_the_digest(data_copy: Path, name: str) -> None:
    before = readers_digest(ReaderSettings())
    with open(data_copy / name, "a", encoding="utf-8") as fh:
        fh.write("\n# one more line\n")
    assert readers_digest(ReaderSettings()) != before


def test_extra_signatures_change_the_digest() -> None:
    row = {"field": "XMP-dc:Creator", "value": "^StudioGen$", "signal": "ai_generated"}
    plain = readers_digest(ReaderSettings())
    extra = readers_digest(ReaderSettings(extra_signatures=(row,)))
    other = readers_digest(ReaderSettings(extra_signatures=({**row, "value": "^OtherGen$"},)))
    assert len({plain, extra, other}) == 3


def test_every_settings_field_counts() -> None:
    base = ReaderSettings()
    seen = {readers_digest(base)}
    seen.add(readers_digest(dataclasses.replace(base, trust_anchors_pem="-----BEGIN CERT")))
    seen.add(readers_digest(dataclasses.replace(base, time_limit_s=5.0)))
    assert len(seen) == 3


@dataclasses.dataclass(frozen=True)
class _WithFile(ReaderSettings):
    signatures_file: Path | None = None


def test_a_settings_file_counts_by_its_bytes(tmp_path: Path) -> None:
    """A settings field naming a file (a user signatures file) is hashed by content, not name."""
    sigs = tmp_path / "signatures.toml"
    sigs.write_text('[[signature]]\nfield = "*:Comment"\nvalue = "x"\nsignal = "ai_generated"\n')
    settings = _WithFile(signatures_file=sigs)
    before = readers_digest(settings)
    sigs.write_text('[[signature]]\nfield = "*:Comment"\nvalue = "y"\nsignal = "ai_generated"\n')
    assert readers_digest(settings) != before


def test_reader_choice_counts() -> None:
    s = ReaderSettings()
    assert readers_digest(s, ("c2pa", "metadata")) != readers_digest(s, ("c2pa", "metadata", "sidecar"))
    assert readers_digest(s) == readers_digest(s, DEFAULT_READERS)


def test_exiftool_version_counts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Another ExifTool on PATH (an upgrade) is another digest, though nothing else changed."""
    before = readers_digest(ReaderSettings())
    fake = tmp_path / "bin" / "exiftool"
    fake.parent.mkdir()
    fake.write_text("#!/bin/sh\necho 99.01\n")
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{fake.parent}{os.pathsep}{os.environ['PATH']}")
    assert digest_mod.exiftool_identity()["version"] == "99.01"
    assert readers_digest(ReaderSettings()) != before


@pytest.mark.parametrize("module", ["evidence/tags.py", "vocabulary.py", "formats.py",
                                    "pipeline.py", "classify.py"])
def test_reading_code_counts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, module: str) -> None:
    """An edited reader module (an editable install fixed in place) is another digest."""
    copy = tmp_path / "pkg"
    shutil.copytree(digest_mod.PACKAGE_DIR, copy, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(digest_mod, "PACKAGE_DIR", copy)
    before = readers_digest(ReaderSettings())
    with open(copy / module, "a", encoding="utf-8") as fh:
        fh.write("\n# fixed\n")
    assert readers_digest(ReaderSettings()) != before
