from __future__ import annotations

from pathlib import Path

import pytest

from provenance.sidecars import asset_of, is_sidecar

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
