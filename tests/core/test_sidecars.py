from __future__ import annotations

import os
from pathlib import Path

import pytest

from provenance import sidecars
from provenance.sidecars import SIDECAR_SUFFIXES, asset_of, candidates, is_sidecar, named
from provenance.walk import walk
from tests.trees import within

XMP = b'<?xpacket begin=""?><x:xmpmeta xmlns:x="adobe:ns:meta/"/>'
PNG = b"\x89PNG\r\n\x1a\n" + bytes(40)


@pytest.mark.parametrize(
    ("name", "content", "with_asset", "expected"),
    [
        ("shot.exr.xmp", XMP, True, True),  # a real sidecar
        ("shot.exr.xmp", XMP, False, False),  # orphan: judged as a file
        ("shot.exr.xmp", PNG, True, False),  # an image hiding behind a sidecar name
        ("shot.exr.approval.json", b'{"schema": 1}', True, True),
        ("shot.exr.approval.json", PNG, True, False),
        ("shot.mxf.c2pa", b"\x00\x00\x01\x00jumb", True, True),
        ("shot.mxf.c2pa", b"plain text", True, False),
        (".xmp", XMP, False, False),
    ],
)
def test_sidecar_needs_its_asset_and_sidecar_bytes(
    tmp_path: Path, name: str, content: bytes, with_asset: bool, expected: bool
) -> None:
    f = tmp_path / name
    f.write_bytes(content)
    if with_asset and asset_of(f) is not None:
        asset_of(f).write_bytes(b"v/1\x01")  # type: ignore[union-attr]
    assert is_sidecar(f) is expected


def test_disguised_image_is_inspected(tmp_path: Path) -> None:
    from provenance.pipeline import iter_files

    (tmp_path / "shot.exr").write_bytes(b"v/1\x01")
    (tmp_path / "shot.exr.xmp").write_bytes(PNG)
    assert sorted(p.name for p in iter_files([tmp_path])) == ["shot.exr", "shot.exr.xmp"]


@pytest.mark.parametrize("suffix", SIDECAR_SUFFIXES)
def test_a_fifo_named_like_a_sidecar_is_not_one_and_never_blocks(tmp_path: Path, suffix: str) -> None:
    (tmp_path / "shot.exr").write_bytes(b"v/1\x01")
    fifo = tmp_path / f"shot.exr{suffix}"
    os.mkfifo(fifo)
    assert within(10, fifo, lambda: is_sidecar(fifo, "approvals")) is False
    assert within(10, fifo, lambda: [e.rel for e in walk([tmp_path])]) == ["shot.exr", fifo.name]


def test_readers_cache_tag_and_approve_use_the_one_naming_rule(tmp_path: Path) -> None:
    from provenance.approvals.lookup import candidate_files
    from provenance.config import load_config
    from provenance.evidence.c2pa import sidecar_for
    from provenance.evidence.sidecar import sidecar_path as read_xmp_beside
    from provenance.gate.cache import cache_key
    from provenance.tagging.sidecar import sidecar_path as tag_xmp_beside

    clip = tmp_path / "clip.mxf"
    clip.write_bytes(b"mxf")
    assert candidates(clip, sidecars.XMP) == (f"{clip}.xmp", str(tmp_path / "clip.xmp"))
    stem_named = tmp_path / "clip.xmp"
    assert candidates(stem_named, sidecars.XMP) == (f"{stem_named}.xmp",)  # never itself
    (tmp_path / "clip.xmp").write_bytes(XMP)  # another tool's stem-named sidecar: read when alone
    (tmp_path / "clip.c2pa").write_bytes(b"\x00\x00\x01\x00jumb")
    assert read_xmp_beside(clip) == tmp_path / "clip.xmp" and sidecar_for(clip) == tmp_path / "clip.c2pa"
    before = cache_key(clip)
    # What `tag` writes is preferred, and a new sidecar changes the gate cache's key.
    Path(named(clip, sidecars.XMP)).write_bytes(XMP)
    assert tag_xmp_beside(clip) == Path(named(clip, sidecars.XMP)) == read_xmp_beside(clip)
    assert cache_key(clip) != before
    assert Path(named(clip, sidecars.APPROVAL)) in candidate_files(clip, load_config(None, start=tmp_path))
    assert is_sidecar(Path(named(clip, sidecars.XMP)))
    assert not is_sidecar(stem_named)  # the stem form is read beside its asset, and judged as a file
