"""`provenance gate EDIT`: every clip's media judged by the one judging step, the AI clip
blocking, and the shot disclosure map placing it at the record timecode put in the edit."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import opentimelineio as otio
import pytest

from provenance.model import Scope
from provenance.timeline import read as timeline_read
from tests.gate.conftest import Show, ai_png, asset, plain_png
from tests.timeline.conftest import Media, build, rt, write


def _map(report: dict[str, Any]) -> dict[str, Any]:
    assert report["shot_map"]["schema"] == "provenance.shot-map/v1"
    (edit,) = report["shot_map"]["edits"]
    return edit


def _camera(show: Show, corpus_dir: Path) -> Path:
    cam = show.root / "media" / "camera_a001.jpeg"
    cam.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(corpus_dir / "d23_crater-lake.jpeg", cam)
    return cam


@pytest.mark.parametrize("ext", [".otio", ".edl", ".xml", ".fcpxml", ".aaf", ".otioz", ".otiod"])
def test_each_format_blocks_the_ai_clip_at_its_record_timecode(
        show: Show, corpus_dir: Path, ext: str, capsys: pytest.CaptureFixture[str]) -> None:
    cam = _camera(show, corpus_dir)
    gen = ai_png(show.root / "media" / "sky_gen.png")
    tl = build([Media("camera", cam, source_in=10, duration=24, gap_after=12),
                Media("sky", gen, source_in=5, duration=36)])
    edit = write(tl, show.pkg / f"cut{ext}")

    rc, report, err = show.gate(edit, capsys=capsys)
    assert rc == 1, err
    m = _map(report)
    assert m["clips"] == 2 and not m["missing"] and m["error"] is None
    (shot,) = m["ai_shots"]
    # EDLs carry no start time of their own: the adapter's record times start at 00:00:00:00.
    hour = "00" if ext == ".edl" else "01"
    assert (shot["shot"], shot["clip"], shot["status"]) == (2, "sky", "blocked")
    assert shot["track"] == {".edl": "V", ".xml": "V1", ".fcpxml": "Lane_1"}.get(ext, "V1")
    assert (shot["record_in"], shot["record_out"]) == (f"{hour}:00:01:12", f"{hour}:00:03:00")
    assert (shot["source_in"], shot["source_out"]) == ("00:00:00:05", "00:00:01:17")
    assert shot["classification"] == "ai_generated" and shot["approval"] == "pending: final-deliverable"
    assert shot["file"].endswith("sky_gen.png")
    assert "#2 " in err and "BLOCKED" in err and f"{hour}:00:01:12–{hour}:00:03:00" in err
    # The edit itself is part of the delivery and is judged too; the camera clip is clear.
    names = [a["name"] for a in report["assets"]]
    assert any(n.endswith("camera_a001.jpeg") for n in names)
    assert any(n.endswith("sky_gen.png") for n in names)
    # Named relative to the show (the edit's media is outside the edit's folder): what the
    # decision file lists means the same on the receiver's host.
    # A bundle carries its media inside: named inside the bundle, the bundle in its folder.
    edit_name = f"cut{ext}" if ext in (".otioz", ".otiod") else f"deliveries/EP101/cut{ext}"
    media = f"cut{ext}/media" if ext in (".otioz", ".otiod") else "media"
    assert f"{media}/camera_a001.jpeg" in names and f"{media}/sky_gen.png" in names
    assert any(n.startswith(edit_name) for n in names)
    assert [a["status"] for a in report["assets"] if a["name"].endswith("camera_a001.jpeg")] == ["clear"]


def test_fcpxml_1_10_media_rep_src_resolves(show: Show, capsys: pytest.CaptureFixture[str]) -> None:
    """FCPXML 1.10 puts the media path in <media-rep src> (the plain fcpx adapter 1.0.0 returns
    a missing reference for it); the lite adapter resolves it."""
    gen = ai_png(show.root / "media" / "gen shot.png")
    url = gen.as_uri()
    (show.pkg / "cut.fcpxml").write_text(f"""<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE fcpxml>
<fcpxml version="1.10">
  <resources>
    <format id="r1" name="FFVideoFormat1080p24" frameDuration="100/2400s" width="1920" height="1080"/>
    <asset id="r2" name="gen shot" start="0s" duration="48/24s" hasVideo="1" format="r1">
      <media-rep kind="original-media" src="{url}"/>
    </asset>
  </resources>
  <library><event name="ep101"><project name="cut">
    <sequence format="r1" tcStart="3600/1s" tcFormat="NDF" duration="48/24s">
      <spine>
        <gap name="Gap" offset="3600/1s" duration="24/24s" start="3600/1s"/>
        <asset-clip ref="r2" name="gen shot" offset="86424/24s" start="12/24s" duration="24/24s" format="r1"/>
      </spine>
    </sequence>
  </project></event></library>
</fcpxml>
""")
    rc, report, err = show.gate(show.pkg / "cut.fcpxml", capsys=capsys)
    assert rc == 1, err
    (shot,) = _map(report)["ai_shots"]
    assert shot["file"].endswith("gen shot.png") and shot["url"] == url
    assert (shot["record_in"], shot["source_in"]) == ("01:00:01:00", "00:00:00:12")


def test_an_image_sequence_is_judged_only_for_the_frames_the_clip_uses(
        show: Show, capsys: pytest.CaptureFixture[str]) -> None:
    plates = show.root / "media" / "plate"
    for n in range(1001, 1011):  # frames 1008-1010 are AI; the cut uses 1003-1006 only
        (ai_png if n >= 1008 else plain_png)(plates / f"plate.{n:04d}.png", seed=n)
    tl = build([Media("plate", seq=(plates, "plate.", ".png", 1001), source_in=2, duration=4, available=10)])
    rc, report, err = show.gate(write(tl, show.pkg / "cut.otio"), capsys=capsys)
    assert rc == 0, err
    judged = sorted(f["path"].rsplit("/", 1)[-1] for a in report["assets"] for f in a["files"]
                    if "plate." in f["path"])
    assert judged == [f"plate.{n}.png" for n in range(1003, 1007)]
    assert not _map(report)["ai_shots"]

    tl = build([Media("plate", seq=(plates, "plate.", ".png", 1001), source_in=5, duration=4, available=10)])
    rc, report, _ = show.gate(write(tl, show.pkg / "cut2.otio"), capsys=capsys)
    assert rc == 1
    (shot,) = _map(report)["ai_shots"]
    assert shot["frames"] == [1006, 1007, 1008, 1009] and "[frames 1006-1009]" in shot["file"]


def test_a_clip_whose_media_moved_is_found_through_the_configured_remap(
        show: Show, capsys: pytest.CaptureFixture[str]) -> None:
    ai_png(show.root / "ep101" / "vfx" / "sky.png")
    tl = build([Media("sky", "file:///Volumes/SHOW/ep101/vfx/sky.png")])
    edit = write(tl, show.pkg / "cut.otio")
    rc, report, _ = show.gate(edit, capsys=capsys)
    assert rc == 3 and _map(report)["missing"][0]["reason"] == "no file at /Volumes/SHOW/ep101/vfx/sky.png"

    with show.config_file.open("a") as fh:
        fh.write('[timeline]\nremap = [{from = "/Volumes/SHOW", to = "."}]\n')
    rc, report, _ = show.gate(edit, capsys=capsys)
    assert rc == 1
    (shot,) = _map(report)["ai_shots"]
    assert shot["file"] == "ep101/vfx/sky.png"  # relative to the show, wherever the edit said it was
    assert shot["notes"] == [f"remapped /Volumes/SHOW/ep101/vfx/sky.png → {show.root}/ep101/vfx/sky.png"]


def test_a_missing_clip_is_undecided_unless_allowed_and_is_listed_either_way(
        show: Show, capsys: pytest.CaptureFixture[str]) -> None:
    plain = plain_png(show.root / "media" / "a.png")
    tl = build([Media("a", plain, gap_after=24), Media("gone", show.root / "media" / "gone.png"),
                Media("offline", None), Media("bars", generator=True)])
    edit = write(tl, show.pkg / "cut.otio")
    rc, report, err = show.gate(edit, capsys=capsys)
    assert rc == 3, err
    m = _map(report)
    assert [(x["clip"], x["allowed"]) for x in m["missing"]] == [("gone", False), ("offline", False)]
    assert m["skipped"] == 1  # the bars generator: nothing to judge
    assert m["missing"][0]["record_in"] == "01:00:02:00"
    undecided = [a["name"] for a in report["assets"] if a["status"] == "undecided"]
    assert len(undecided) == 2 and all("cut.otio: clip" in n for n in undecided)
    assert "MISSING" in err and "gone.png" in err

    rc, report, err = show.gate("--allow-missing", edit, capsys=capsys)
    assert rc == 0, err
    assert [(x["clip"], x["allowed"]) for x in _map(report)["missing"]] == [("gone", True), ("offline", True)]
    assert "--allow-missing" in err


def test_allow_missing_never_passes_media_that_is_there_but_unreadable(
        show: Show, capsys: pytest.CaptureFixture[str]) -> None:
    link = show.root / "media" / "dangling.png"
    link.parent.mkdir(parents=True)
    link.symlink_to(show.root / "media" / "nowhere.png")  # there (a name), but nothing can be read
    rc, report, _ = show.gate("--allow-missing", write(build([Media("d", link)]), show.pkg / "cut.otio"),
                              capsys=capsys)
    assert rc == 3 and not _map(report)["missing"]


def test_an_approved_ai_clip_passes_and_the_map_names_approver_and_reference(
        show: Show, capsys: pytest.CaptureFixture[str]) -> None:
    gen = ai_png(show.root / "media" / "sign.png")
    show.add_approver("Legal", {Scope.FINAL_DELIVERABLE})
    show.approve(gen, "Legal", {Scope.FINAL_DELIVERABLE}, ref="LEGAL-77")
    rc, report, err = show.gate(write(build([Media("sign", gen)]), show.pkg / "cut.edl"), capsys=capsys)
    assert rc == 0, err
    (shot,) = _map(report)["ai_shots"]
    assert shot["status"] == "approved" and shot["references"] == ["LEGAL-77"]
    assert shot["approval"] == "approved by Legal (final-deliverable)"


def test_a_malformed_or_hostile_timeline_is_undecided_naming_the_file(
        show: Show, capsys: pytest.CaptureFixture[str]) -> None:
    bad = show.pkg / "broken.otio"
    bad.write_text('{"OTIO_SCHEMA": "Timeline.1", "tracks": {"OTIO_SCHEMA": "Stack.1", "children": [7]}}')
    rc, report, err = show.gate(bad, capsys=capsys)
    assert rc == 3
    (a,) = report["assets"]
    assert a["status"] == "undecided" and "could not read the edit" in " ".join(a["reasons"])
    assert "broken.otio" in _map(report)["timeline"] and _map(report)["error"]

    fifo = show.pkg / "cut.edl"
    os.mkfifo(fifo)  # a FIFO must not hang the gate
    rc, _, err = show.gate(fifo, capsys=capsys)
    assert rc == 3 and "not a regular file" in err


def test_an_edit_larger_than_the_bound_is_undecided_not_read_whole(
        show: Show, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    cut = write(build([Media("x", "x.png")]), show.pkg / "cut.otio")
    plain_png(show.pkg / "x.png")
    monkeypatch.setattr(timeline_read, "MAX_TIMELINE_BYTES", cut.stat().st_size - 1)
    rc, _, err = show.gate(cut, capsys=capsys)
    assert rc == 3 and "cannot read the edit: larger than" in err, err
    monkeypatch.setattr(timeline_read, "MAX_TIMELINE_BYTES", cut.stat().st_size)
    assert show.gate(cut, capsys=capsys)[0] == 0


def test_media_outside_the_edits_folder_and_the_show_is_named(
        show: Show, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    secret = plain_png(tmp_path / "elsewhere" / "secret.png")
    rel = os.path.relpath(secret, show.pkg)  # ../../../elsewhere/secret.png
    rc, report, err = show.gate(write(build([Media("x", rel)]), show.pkg / "cut.otio"), capsys=capsys)
    assert rc == 0
    assert f"NOTE      #1 x: resolves to {secret}, outside the edit's folder and the show" in err
    assert _map(report)["notes"] == [{"shot": 1, "clip": "x", "note": f"resolves to {secret}, outside the "
                                                                     "edit's folder and the show"}]
    judged = asset(report, str(secret))  # named by where it really is
    assert judged["status"] == "clear"
    assert judged["notes"] == [f"resolves to {secret}, outside the edit's folder and the show"]


def test_a_folder_holding_a_timeline_is_still_a_folder_of_files(
        show: Show, capsys: pytest.CaptureFixture[str]) -> None:
    gen = ai_png(show.root / "media" / "sky.png")  # outside the folder handed over
    write(build([Media("sky", gen)]), show.pkg / "cut.otio")
    rc, report, _ = show.gate(show.pkg, capsys=capsys)
    assert rc == 0 and report["shot_map"] is None
    assert [a["name"] for a in report["assets"]] == ["cut.otio"]


def test_a_clip_naming_billions_of_frames_is_undecided_not_enumerated(
        show: Show, capsys: pytest.CaptureFixture[str]) -> None:
    plates = show.root / "media" / "plate"
    plain_png(plates / "plate.1001.png")
    tl = build([Media("plate", seq=(plates, "plate.", ".png", 1001), duration=10**9, available=10**9)])
    rc, report, _ = show.gate("--allow-missing", write(tl, show.pkg / "cut.otio"), capsys=capsys)
    assert rc == 3 and "more than 2000000" in _map(report)["error"]


def test_an_ai_voice_on_an_audio_track_is_placed_on_that_track(
        show: Show, sample_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    tl = build([Media("camera", plain_png(show.root / "media" / "a.png"), duration=48)])
    voice = otio.schema.Track(name="A1", kind=otio.schema.TrackKind.Audio)
    voice.append(otio.schema.Gap(duration=rt(12)))
    ref = otio.schema.ExternalReference(
        target_url=(sample_dir / "working" / "generated" / "c2pa_generated.wav").as_uri())
    voice.append(otio.schema.Clip(name="temp VO", media_reference=ref,
                                  source_range=otio.opentime.TimeRange(rt(0), rt(24))))
    tl.tracks.append(voice)
    rc, report, _ = show.gate(write(tl, show.pkg / "cut.otio"), capsys=capsys)
    assert rc == 1
    (shot,) = _map(report)["ai_shots"]
    assert (shot["track"], shot["kind"], shot["clip"]) == ("A1", "Audio", "temp VO")
    assert (shot["record_in"], shot["record_out"]) == ("01:00:00:12", "01:00:01:12")


def test_an_xml_file_that_is_not_fcp_xml_is_judged_as_a_file(
        show: Show, capsys: pytest.CaptureFixture[str]) -> None:
    cpl = show.pkg / "CPL_ep101.xml"  # an IMF CPL, a vendor's metadata: XML, not an edit
    cpl.write_text('<?xml version="1.0"?>\n<CompositionPlaylist xmlns="http://www.smpte-ra.org/schemas/'
                   '2067-3/2016"><Id>urn:uuid:0</Id></CompositionPlaylist>\n')
    rc, report, _ = show.gate(cpl, capsys=capsys)
    assert rc == 0 and report["shot_map"] is None
    assert [a["status"] for a in report["assets"]] == ["clear"]


def test_fcp_xml_is_an_edit_however_long_its_prolog(show: Show, capsys: pytest.CaptureFixture[str]) -> None:
    gen = ai_png(show.root / "media" / "gen.png")
    edit = write(build([Media("gen", gen)]), show.pkg / "cut.xml")
    text = edit.read_text()
    head, _, rest = text.partition("\n")
    edit.write_text(f"{head}\n<!-- {'x' * 20000} -->\n{rest}")  # the root is far past any sniffed prefix
    rc, report, _ = show.gate(edit, capsys=capsys)
    assert rc == 1 and len(_map(report)["ai_shots"]) == 1
