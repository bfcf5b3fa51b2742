"""`provenance gate PACKAGE` on a real IMF package: clear as built, then tampered with."""

from __future__ import annotations

import os
import re
import shutil
from typing import Any

import pytest

from tests.gate.conftest import Show, asset
from tests.imf.build import Built, Track, urn, video_mxf, write_package
from tests.imf.conftest import valid_gate_report

Cap = pytest.CaptureFixture[str]


def _package(report: dict[str, Any]) -> dict[str, Any]:
    (pkg,) = report["packages"]
    return pkg


def _reasons(report: dict[str, Any]) -> str:
    return " | ".join(r for a in report["assets"] for r in a["reasons"])


def test_a_package_as_built_is_clear(show: Show, imp: Built, capsys: Cap) -> None:
    rc, report, err = show.gate(show.pkg, capsys=capsys)
    assert rc == 0, _reasons(report)
    assert "IMF package EP101: 3 assets checked against 1 PKL (size, hash); CPL 'EP101 Final' (24/1); " \
           "0 problems" in err
    pkg = _package(report)
    assert pkg["problems"] == [] and pkg["assets_sha256"]
    assert [c["id"] for c in pkg["compositions"]] == [imp.cpl_id]
    # every asset was judged as a file of its own, the XML documents too
    names = {a["name"] for a in report["assets"]}
    assert {"EP101_V01.mxf", "EP101_A01.mxf", "ASSETMAP.xml"} <= names
    assert any(n.startswith("CPL_") for n in names) and any(n.startswith("PKL_") for n in names)


def test_a_changed_byte_in_a_track_file_blocks_with_the_asset_named(
        show: Show, imp: Built, capsys: Cap) -> None:
    track = show.pkg / "EP101_V01.mxf"
    data = bytearray(track.read_bytes())
    data[len(data) // 2] ^= 0x01  # same size: only the hash can tell
    track.write_bytes(bytes(data))
    rc, report, err = show.gate(show.pkg, capsys=capsys)
    assert rc == 1
    valid_gate_report(report)
    a = asset(report, "EP101_V01.mxf")
    assert a["status"] == "blocked"
    assert any("imf-package" in r and "sha1 does not match" in r and imp.uuid_of("EP101_V01.mxf") in r
               for r in a["reasons"]), a["reasons"]
    assert asset(report, "EP101_A01.mxf")["status"] == "clear"
    assert "EP101_V01.mxf" in err and "sha1 does not match" in err


def test_a_file_added_to_the_package_blocks(show: Show, imp: Built, capsys: Cap) -> None:
    (show.pkg / "extra").mkdir()
    shutil.copyfile(show.pkg / "EP101_A01.mxf", show.pkg / "extra" / "bonus.mxf")
    rc, report, _ = show.gate(show.pkg, capsys=capsys)
    assert rc == 1
    a = asset(report, "extra/bonus.mxf")
    assert a["status"] == "blocked" and "in no ASSETMAP or PKL" in " ".join(a["reasons"])


def test_a_sidecar_written_into_the_package_blocks_though_the_walk_skips_sidecars(
        show: Show, imp: Built, capsys: Cap) -> None:
    (show.pkg / "EP101_V01.mxf.xmp").write_text('<x:xmpmeta xmlns:x="adobe:ns:meta/"></x:xmpmeta>')
    rc, report, _ = show.gate(show.pkg, capsys=capsys)
    assert rc == 1
    assert asset(report, "EP101_V01.mxf.xmp")["status"] == "blocked"


def test_an_asset_removed_blocks_as_missing(show: Show, imp: Built, capsys: Cap) -> None:
    (show.pkg / "EP101_A01.mxf").unlink()
    rc, report, _ = show.gate(show.pkg, capsys=capsys)
    assert rc == 1
    a = asset(report, "EP101_A01.mxf")
    assert a["status"] == "blocked"
    assert f"asset {imp.uuid_of('EP101_A01.mxf')} is missing" in " ".join(a["reasons"])
    assert _package(report)["assets_sha256"] is None  # an incomplete package has no set to approve


def _remap(show: Show, file: str, new_path: str) -> None:
    am = show.pkg / "ASSETMAP.xml"
    am.write_text(am.read_text().replace(f"<Path>{file}</Path>", f"<Path>{new_path}</Path>"))


@pytest.mark.parametrize("path", ["../EP101/EP101_V01.mxf", "/etc/passwd"])
def test_a_path_out_of_the_package_is_not_followed_and_blocks(
        show: Show, imp: Built, capsys: Cap, path: str) -> None:
    _remap(show, "EP101_V01.mxf", path)
    rc, report, _ = show.gate(show.pkg, capsys=capsys)
    assert rc == 1
    text = _reasons(report)
    assert f"path {path!r}" in text and "not followed" in text
    # the real file is now one no ASSETMAP entry maps
    assert "'EP101_V01.mxf' is in the package but in no ASSETMAP or PKL" in text


@pytest.mark.parametrize(("name", "said"), [
    ("EP101_A01.mxf", "path 'EP101_A01.mxf' leads out of the package (symlink to"),
    ("ASSETMAP.xml", "the ASSETMAP: path 'ASSETMAP.xml' leads out of the package"),
])
def test_a_symlink_out_of_the_package_is_not_followed_and_blocks(
        show: Show, imp: Built, capsys: Cap, name: str, said: str) -> None:
    outside = show.root / name
    (show.pkg / name).rename(outside)
    os.symlink(outside, show.pkg / name)
    rc, report, _ = show.gate(show.pkg, capsys=capsys)
    assert rc == 1
    assert said in _reasons(report)


def test_a_uuid_mapped_twice_is_undecided(show: Show, imp: Built, capsys: Cap) -> None:
    am = show.pkg / "ASSETMAP.xml"
    v, a = imp.uuid_of("EP101_V01.mxf"), imp.uuid_of("EP101_A01.mxf")
    am.write_text(am.read_text().replace(f"<Id>{a}</Id>", f"<Id>{v}</Id>"))
    rc, report, _ = show.gate(show.pkg, capsys=capsys)
    assert rc == 3
    assert f"UUID {v} is mapped 2 times" in _reasons(report)


@pytest.mark.parametrize("damage", ["entity", "namespace", "garbage"])
def test_an_assetmap_that_cannot_be_read_is_undecided(
        show: Show, imp: Built, capsys: Cap, damage: str) -> None:
    am = show.pkg / "ASSETMAP.xml"
    text = am.read_text()
    if damage == "entity":  # a billion-laughs shape: refused, never expanded
        text = text.replace("<AssetMap", '<!DOCTYPE AssetMap [<!ENTITY a "aaaa">]><AssetMap', 1)
    elif damage == "namespace":
        text = text.replace("429-9/2007/AM", "429-9/2099/AM")
    else:
        text = text[: len(text) // 2]
    am.write_text(text)
    rc, report, _ = show.gate(show.pkg, capsys=capsys)
    assert rc == 3
    a = asset(report, "ASSETMAP.xml")
    assert a["status"] == "undecided" and "cannot read the ASSETMAP" in " ".join(a["reasons"])


def test_a_cpl_playing_a_track_file_not_in_the_package_is_undecided(
        show: Show, media_tools: None, capsys: Cap) -> None:
    video_mxf(show.pkg / "V.mxf")
    ov = Track("OV_V.mxf", "MainImageSequence", 48)
    (show.pkg / "OV_V.mxf").write_bytes(b"")
    built = write_package(show.pkg, [Track("V.mxf", "MainImageSequence", 48), ov],
                          [[("V.mxf", 0, 48), ("OV_V.mxf", 0, 48)]])
    (show.pkg / "OV_V.mxf").unlink()  # a supplemental package: its OV holds that track file
    pkl = next(show.pkg.glob("PKL_*.xml"))
    pkl.write_text(re.sub(rf"<Asset><Id>{ov.id}</Id>.*?</Asset>", "", pkl.read_text()))
    am = show.pkg / "ASSETMAP.xml"
    am.write_text(re.sub(rf"<Asset><Id>{ov.id}</Id>.*?</Asset>", "", am.read_text()))
    rc, report, _ = show.gate(show.pkg, capsys=capsys)
    assert rc == 3, _reasons(report)
    assert f"plays track file {ov.id}, which is not in this package" in _reasons(report)
    assert built.cpl_id


def test_a_package_inside_a_delivery_folder_is_found(
        show: Show, media_tools: None, capsys: Cap) -> None:
    inner = show.pkg / "IMP_EP101"
    inner.mkdir()
    video_mxf(inner / "V.mxf")
    write_package(inner, [Track("V.mxf", "MainImageSequence", 48)], [[("V.mxf", 0, 48)]], year=2013)
    (inner / "V.mxf").write_bytes(b"not the listed bytes")
    rc, report, _ = show.gate(show.pkg, capsys=capsys)
    assert rc == 1
    assert _package(report)["name"] == "IMP_EP101"
    assert asset(report, "IMP_EP101/V.mxf")["status"] == "blocked"
    assert urn()  # the builder's UUIDs are fresh per package


def test_a_package_check_that_crashes_leaves_the_gate_undecided(
        show: Show, imp: Built, capsys: Cap, monkeypatch: pytest.MonkeyPatch) -> None:
    import provenance.imf.gating as gating

    def broken(root: object) -> None:
        raise RuntimeError("injected")

    monkeypatch.setattr(gating, "open_package", broken)
    rc, report, _ = show.gate(show.pkg, capsys=capsys)
    assert rc == 3
    assert "could not check the IMF package: internal error: RuntimeError: injected" in _reasons(report)
