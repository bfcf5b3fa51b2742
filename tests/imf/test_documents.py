"""ASSETMAP, PKL and CPL parsing in every namespace variant, and edit units → timecode."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest

from provenance.imf import Severity, documents, open_package, placements
from provenance.imf.documents import ImfError, parse_cpl
from provenance.imf.timeline import narrowed, timecode
from tests.imf.build import Track, write_package


def _bytes_package(root: Path, year: int) -> None:
    (root / "V.mxf").write_bytes(b"picture essence" * 100)
    (root / "A.mxf").write_bytes(b"sound essence" * 100)
    write_package(root, [Track("V.mxf", "MainImageSequence", 240), Track("A.mxf", "MainAudioSequence", 480000,
                                                                         "48000 1")],
                  [[("V.mxf", 24, 48), ("A.mxf", 0, 96000)], [("V.mxf", 100, 24)]], year=year,
                  start="00:59:58:00")


@pytest.mark.parametrize("year", [2013, 2016, 2020])
def test_every_namespace_variant_reads_the_same(tmp_path: Path, year: int) -> None:
    _bytes_package(tmp_path, year)
    pkg = open_package(tmp_path)
    assert pkg.problems == []
    (cpl,) = pkg.compositions
    assert cpl.edit_rate == Fraction(24) and cpl.timecode is not None
    rows = placements(cpl)
    got = [(r.segment, r.sequence, r.record_in, r.record_out, r.timecode_in, r.timecode_out) for r in rows]
    assert got == [
        (1, "MainImageSequence", 0, 48, "00:59:58:00", "01:00:00:00"),
        (1, "MainAudioSequence", 0, 48, "00:59:58:00", "01:00:00:00"),  # 96000 samples at 48 kHz = 48 frames
        (2, "MainImageSequence", 48, 72, "01:00:00:00", "01:00:01:00"),
    ]
    assert rows[0].entry_point == 24 and rows[2].entry_point == 100
    assert rows[1].resource_edit_rate == "48000/1"


def test_a_pkl_hash_that_is_not_base64_is_undecided(tmp_path: Path) -> None:
    _bytes_package(tmp_path, 2016)
    pkl = next(tmp_path.glob("PKL_*.xml"))
    text = pkl.read_text()
    start = text.index("<Hash>") + len("<Hash>")
    pkl.write_text(text[:start] + "not*base64" + text[text.index("</Hash>"):])
    pkg = open_package(tmp_path)
    assert [p.severity for p in pkg.problems] == [Severity.UNDECIDED]
    assert "is not base64" in pkg.problems[0].reason


def test_an_unknown_hash_algorithm_is_undecided(tmp_path: Path) -> None:
    _bytes_package(tmp_path, 2016)
    pkl = next(tmp_path.glob("PKL_*.xml"))
    pkl.write_text(pkl.read_text().replace("xmldsig#sha1", "xmldsig#md5"))
    (problem,) = open_package(tmp_path).problems
    assert problem.severity is Severity.UNDECIDED and "hash algorithm" in problem.reason


def test_a_resource_past_its_track_file_is_refused(tmp_path: Path) -> None:
    _bytes_package(tmp_path, 2016)
    cpl = next(tmp_path.glob("CPL_*.xml"))
    cpl.write_text(cpl.read_text().replace("<EntryPoint>100</EntryPoint>", "<EntryPoint>230</EntryPoint>"))
    with pytest.raises(ImfError, match="exceeds IntrinsicDuration 240"):
        parse_cpl(cpl, cpl.name)


@pytest.mark.parametrize(("frame", "fps", "drop", "text"), [
    (0, 24, False, "00:00:00:00"),
    (24 * 3600 + 23, 24, False, "01:00:00:23"),
    (1800, 30, True, "00:01:00;02"),  # frames 0 and 1 of minute 1 are skipped
    (17982, 30, True, "00:10:00;00"),  # …but not at minute 10
    (3600, 60, True, "00:01:00;04"),
])
def test_timecode(frame: int, fps: int, drop: bool, text: str) -> None:
    assert timecode(frame, fps, drop) == text


def test_a_matched_segment_is_placed_within_the_resource_and_each_repeat(tmp_path: Path) -> None:
    (tmp_path / "V.mxf").write_bytes(b"picture essence" * 100)
    write_package(tmp_path, [Track("V.mxf", "MainImageSequence", 240)], [[("V.mxf", 24, 48)]])
    cpl = next(tmp_path.glob("CPL_*.xml"))
    cpl.write_text(cpl.read_text().replace("<RepeatCount>1</RepeatCount>", "<RepeatCount>2</RepeatCount>"))
    (comp,) = open_package(tmp_path).compositions
    (p,) = placements(comp)
    assert (p.record_in, p.record_out) == (0, 96)
    # seconds 1.5–2.5 of the track file = edit units 36–60; the resource plays 24–72
    parts = narrowed(comp, p, 1.5, 2.5)
    got = [(n.record_in, n.record_out, n.source_in, n.source_out, n.timecode_in) for n in parts]
    assert got == [(12, 36, 36, 60, "01:00:00:12"), (60, 84, 36, 60, "01:00:02:12")]
    assert narrowed(comp, p, 0.0, 0.9) == []  # before the entry point: not on the timeline


def test_a_document_larger_than_the_bound_is_undecided_not_read_whole(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _bytes_package(tmp_path, 2016)
    cpl = next(tmp_path.glob("CPL_*.xml"))
    monkeypatch.setattr(documents, "MAX_XML_BYTES", cpl.stat().st_size - 1)  # a CPL one byte too long
    with pytest.raises(ImfError, match=r"cannot read: larger than [\d,]+ bytes"):
        parse_cpl(cpl, cpl.name)
    assert documents.namespace_of(cpl) is None  # nor sniffed as one
    monkeypatch.setattr(documents, "MAX_XML_BYTES", cpl.stat().st_size)
    assert parse_cpl(cpl, cpl.name).segments
