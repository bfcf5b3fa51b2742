from __future__ import annotations

from pathlib import Path

from provenance.pipeline import iter_files


def test_walk_skips_sidecars_and_the_shows_own_state(tmp_path: Path) -> None:
    (tmp_path / "provenance.toml").write_text("")
    (tmp_path / ".provenance").mkdir()
    (tmp_path / ".provenance" / "ledger.db").write_bytes(b"x")
    (tmp_path / "final").mkdir()
    (tmp_path / "final" / "plate.exr").write_bytes(b"v/1\x01")
    (tmp_path / "final" / "plate.exr.xmp").write_text("<x:xmpmeta/>")
    (tmp_path / "final" / "orphan.xmp").write_text("<x:xmpmeta/>")  # no asset beside it: judged
    found = sorted(p.relative_to(tmp_path).as_posix() for p in iter_files([tmp_path]))
    assert found == ["final/orphan.xmp", "final/plate.exr"]


def test_a_named_file_is_always_yielded(tmp_path: Path) -> None:
    f = tmp_path / "provenance.toml"
    f.write_text("")
    assert list(iter_files([f])) == [f]
