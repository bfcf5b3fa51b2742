"""`gate EDIT --decision FILE` then `verify-delivery` on the receiver: the edit and its media,
copied to another host's folder, are checked by names relative to the edit's root (its folder,
or the show's), never by the sender's absolute paths."""

from __future__ import annotations

import base64
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from provenance.approvals.keys import new_keypair
from provenance.cli import main
from tests.cli.conftest import validated
from tests.gate.conftest import Show, plain_png
from tests.timeline.conftest import Media, build, write


def _camera(show: Show, corpus_dir: Path) -> Path:
    cam = show.root / "media" / "camera_a001.jpeg"
    cam.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(corpus_dir / "d23_crater-lake.jpeg", cam)
    return cam


def _copy(src_root: Path, names: list[str], dest: Path) -> Path:
    """What a receiver gets: the named files under another folder, same layout."""
    for name in names:
        (dest / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src_root / name, dest / name)
    return dest


def _verify(capsys: pytest.CaptureFixture[str], decision: Path, *paths: Path | str,
            key: Path | None = None) -> tuple[int, dict[str, Any], str]:
    capsys.readouterr()
    args = ["verify-delivery", "--json", "--decision", str(decision), *map(str, paths)]
    if key is not None:
        args[1:1] = ["--public-key", f"{key}.pub"]
    rc = main(args)
    out = capsys.readouterr()
    return rc, validated(out.out), out.err  # valid against provenance.verify-delivery/v1


def _text(capsys: pytest.CaptureFixture[str], decision: Path, *paths: Path) -> tuple[int, str]:
    capsys.readouterr()
    rc = main(["verify-delivery", "--decision", str(decision), *map(str, paths)])
    return rc, capsys.readouterr().out


@pytest.fixture
def cut(show: Show, corpus_dir: Path) -> Path:
    """deliveries/EP101/cut.otio whose clips are show/media files: a real corpus camera frame
    and a still (outside the edit's folder, inside the show)."""
    cam = _camera(show, corpus_dir)
    still = plain_png(show.root / "media" / "title.png")
    return write(build([Media("camera", cam), Media("title", still)]), show.pkg / "cut.otio")


def test_the_decision_names_an_edit_and_its_media_relative_to_the_show_and_signs_them(
        show: Show, cut: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    key = tmp_path / "gate.key"
    new_keypair(key)
    decision = tmp_path / "decision.json"
    rc, _, err = show.gate("--decision", decision, "--decision-key", key, cut, capsys=capsys)
    assert rc == 0, err
    payload = json.loads(base64.b64decode(json.loads(decision.read_text())["payload"]))
    names = [f["path"] for f in payload["files"]]
    assert names == ["deliveries/EP101/cut.otio", "media/camera_a001.jpeg", "media/title.png"]
    assert not any(str(show.root) in n for n in names)  # nothing of the sender's host
    (edit,) = payload["edits"]
    assert edit["edit"] == "deliveries/EP101/cut.otio"
    assert [(c["clip"], c["files"]) for c in edit["clips"]] == [
        ("camera", ["media/camera_a001.jpeg"]), ("title", ["media/title.png"])]

    recv = _copy(show.root, names, tmp_path / "receiver" / "EP101_in")
    # The received folder, or the received edit itself (standing for the edit and its media).
    for given in (recv, recv / "deliveries" / "EP101" / "cut.otio"):
        rc, doc, err = _verify(capsys, decision, given, key=key)
        assert rc == 0 and doc["ok"] and doc["signature_checked"], (given, doc, err)


def test_a_clip_changed_or_missing_on_the_receiver_is_named_with_its_clip(
        show: Show, cut: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    decision = tmp_path / "decision.json"
    assert show.gate("--decision", decision, cut, capsys=capsys)[0] == 0
    names = [f["path"] for f in json.loads(decision.read_text())["files"]]
    recv = _copy(show.root, names, tmp_path / "receiver")
    edit = recv / "deliveries" / "EP101" / "cut.otio"

    plain_png(recv / "media" / "title.png", seed=7)  # other bytes under the judged name
    rc, doc, _ = _verify(capsys, decision, edit)
    assert rc == 1 and not doc["ok"]
    assert (doc["changed"], doc["missing"]) == (["media/title.png"], [])
    assert doc["clips"] == {"media/title.png": "clip 2 'title' of deliveries/EP101/cut.otio"}
    rc, out = _text(capsys, decision, edit)
    assert rc == 1 and "CHANGED    media/title.png (clip 2 'title' of deliveries/EP101/cut.otio)" in out

    (recv / "media" / "camera_a001.jpeg").unlink()
    rc, doc, _ = _verify(capsys, decision, recv)
    assert rc == 1 and doc["missing"] == ["media/camera_a001.jpeg"] and doc["changed"] == ["media/title.png"]
    assert doc["clips"]["media/camera_a001.jpeg"] == "clip 1 'camera' of deliveries/EP101/cut.otio"

    shutil.copy2(show.root / "media" / "title.png", recv / "media" / "title.png")
    shutil.copy2(show.root / "media" / "camera_a001.jpeg", recv / "media" / "camera_a001.jpeg")
    assert _verify(capsys, decision, edit)[0] == 0  # restored: identical again
    edit.write_text(edit.read_text().replace('"title"', '"titles"'))  # the edit itself re-cut
    rc, doc, _ = _verify(capsys, decision, edit)
    assert rc == 1 and doc["changed"] == ["deliveries/EP101/cut.otio"]


def test_media_in_the_edits_folder_is_named_relative_to_it(
        show: Show, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    plain_png(show.pkg / "media" / "a.png")
    edit = write(build([Media("a", show.pkg / "media" / "a.png")]), show.pkg / "cut.edl")
    decision = tmp_path / "decision.json"
    assert show.gate("--decision", decision, edit, capsys=capsys)[0] == 0
    names = [f["path"] for f in json.loads(decision.read_text())["files"]]
    assert names == ["cut.edl", "media/a.png"]
    recv = _copy(show.pkg, names, tmp_path / "in")
    assert _verify(capsys, decision, recv / "cut.edl")[0] == 0
    assert _verify(capsys, decision, recv)[0] == 0


def test_media_outside_the_show_is_never_looked_up_at_the_senders_path(
        show: Show, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    outside = plain_png(tmp_path / "elsewhere" / "x.png")
    edit = write(build([Media("x", outside)]), show.pkg / "cut.otio")
    decision = tmp_path / "decision.json"
    assert show.gate("--decision", decision, edit, capsys=capsys)[0] == 0
    recv = _copy(show.pkg, ["cut.otio"], tmp_path / "in")
    # The sender's file is still there on this host: it must not count as delivered.
    rc, doc, _ = _verify(capsys, decision, recv / "cut.otio")
    assert rc == 1 and doc["missing"] == [str(outside)]


def test_a_missing_clip_is_counted_as_a_missing_clip_and_the_decision_stays_consistent(
        show: Show, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    edit = write(build([Media("title", plain_png(show.root / "media" / "t.png")),
                        Media("gone", show.root / "media" / "gone.png")]), show.pkg / "gone.otio")
    decision = tmp_path / "decision.json"
    rc, report, _ = show.gate("--decision", decision, edit, capsys=capsys)
    assert rc == 3
    assert report["summary"].startswith("2 files and 1 missing clip: "), report["summary"]
    assert report["files"] == 2
    doc = json.loads(decision.read_text())
    assert [f["path"] for f in doc["files"]] == ["deliveries/EP101/gone.otio", "media/t.png"]
    assert doc["edits"][0]["clips"][1]["missing"].startswith("no file at ")
    names = [f["path"] for f in doc["files"]]
    recv = _copy(show.root, names, tmp_path / "in")
    # Identical bytes, but never cleared: exit 1 (not 3, "the decision was edited").
    rc, check, _ = _verify(capsys, decision, recv / "deliveries" / "EP101" / "gone.otio")
    assert rc == 1 and check["result"] == "undecided" and not (check["changed"] or check["missing"])

    rc, report, _ = show.gate("--allow-missing", "--decision", decision, edit, capsys=capsys)
    assert rc == 0 and report["summary"].startswith("2 files: ")
    assert _verify(capsys, decision, recv / "deliveries" / "EP101" / "gone.otio")[0] == 0


@pytest.mark.parametrize("ext", [".otioz", ".otiod"])
def test_a_bundle_carrying_its_media_is_verified_as_received(
        show: Show, corpus_dir: Path, tmp_path: Path, ext: str, capsys: pytest.CaptureFixture[str]) -> None:
    cam = _camera(show, corpus_dir)
    edit = write(build([Media("camera", cam)]), show.pkg / f"cut{ext}")
    decision = tmp_path / "decision.json"
    assert show.gate("--decision", decision, edit, capsys=capsys)[0] == 0
    recv = tmp_path / "in"
    recv.mkdir()
    (shutil.copytree if edit.is_dir() else shutil.copy2)(edit, recv / edit.name)
    for given in (recv, recv / edit.name):
        rc, doc, _ = _verify(capsys, decision, given)
        assert rc == 0, (given, doc)
    inner = next(p for p in (recv / edit.name).rglob("*.jpeg")) if edit.is_dir() else recv / edit.name
    with inner.open("ab") as fh:
        fh.write(b"\0")  # a byte more in the bundle (or in its media)
    rc, doc, _ = _verify(capsys, decision, recv / edit.name)
    assert rc == 1 and doc["changed"]
