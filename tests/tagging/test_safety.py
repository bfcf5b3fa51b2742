"""Never lose a byte: history kept, idempotent, clear per-file outcomes, no temps left."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import c2pa
import pytest

from provenance.config import Config
from provenance.evidence import ReaderSettings
from provenance.identify import sha256_file
from provenance.model import Classification
from provenance.pipeline import Inspector
from provenance.tagging import Outcome, Tagger, TagSpec
from provenance.tagging.atomic import TMP_PREFIX, clean_stale_temps, temp_path
from tests.tagging.conftest import temps_in

SPEC = TagSpec.make("generated", "Runway", "3", "previs", ["performance"])


def store(path: Path, mime: str = "image/jpeg") -> dict:
    ctx = c2pa.Context.from_dict({"verify": {"remote_manifest_fetch": False}})
    with open(path, "rb") as fh, c2pa.Reader(mime, fh, context=ctx) as reader:
        return json.loads(reader.json())


def all_source_types(s: dict) -> list[str]:
    return [a.get("digitalSourceType", "") for m in s["manifests"].values()
            for asr in m["assertions"] if asr["label"].startswith("c2pa.actions")
            for a in asr["data"]["actions"]]


def test_retag_keeps_third_party_ai_claim(sample: Callable[[str], Path],
                                          tagger: Tagger, reader_settings: ReaderSettings) -> None:
    # A file signed by someone else (the sample CA, not our session identity) saying AI.
    path = sample("show/working/generated/c2pa_generated.jpg")
    before = store(path)
    # "edited" would lower its own "generated": refused, nothing written (tagging/floor.py).
    refused = tagger.tag(path, TagSpec.make("edited", "Nuke", "15"))
    assert refused.outcome is Outcome.REFUSED and "ai_generated" in (refused.reason or "")
    assert store(path) == before
    result = tagger.tag(path, TagSpec.make("generated", "Nuke", "15"))
    assert result.outcome is Outcome.WRITTEN, result
    after = store(path)
    assert set(before["manifests"]) < set(after["manifests"])  # old manifest still there
    assert after["active_manifest"] != before["active_manifest"]
    assert any(t.endswith("/trainedAlgorithmicMedia") for t in all_source_types(after))
    with Inspector(reader_settings) as inspector:
        verdict = inspector.inspect(path)
    assert verdict.classification.is_ai and verdict.c2pa.integrity == "ok"


def test_ingredient_only_ai_claim_survives(sample: Callable[[str], Path], tagger: Tagger) -> None:
    path = sample("show/final/shot010_comp.jpg")
    labels = set(store(path)["manifests"])
    assert tagger.tag(path, TagSpec.make("edited", "Photoshop")).outcome is Outcome.WRITTEN
    assert labels < set(store(path)["manifests"])


@pytest.mark.parametrize("fmt", ["jpeg", "png", "mp4", "wav", "exr"])
def test_idempotent(fmt: str, media: Callable[..., Path], tagger: Tagger) -> None:
    path = media(fmt)
    first = tagger.tag(path, SPEC)
    assert first.ok, first
    data = path.read_bytes()
    side = Path(f"{path}.xmp")
    side_data = side.read_bytes() if side.exists() else None
    second = tagger.tag(path, SPEC)
    assert second.outcome is Outcome.UNCHANGED, second
    assert path.read_bytes() == data
    assert (side.read_bytes() if side.exists() else None) == side_data
    if fmt in ("jpeg", "png"):
        assert len(store(path, f"image/{fmt}")["manifests"]) == 1


def test_changed_declaration_is_written_once(media: Callable[..., Path], tagger: Tagger) -> None:
    path = media("jpeg")
    tagger.tag(path, SPEC)
    other = TagSpec.make("generated", "Runway", "3", "final comp", [])
    assert tagger.tag(path, other).outcome is Outcome.WRITTEN
    assert tagger.tag(path, other).outcome is Outcome.UNCHANGED
    s = store(path)
    assert len(s["manifests"]) == 2  # our first manifest kept as history, not duplicated
    out = subprocess.run(["exiftool", "-s3", "-XMP-provenance:Purpose", "-XMP-provenance:Risks",
                          str(path)], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "final comp"  # old purpose replaced, risks bag emptied


def test_dry_run_writes_nothing(media: Callable[..., Path], tagger: Tagger) -> None:
    path = media("png")
    digest = sha256_file(path)
    result = tagger.tag(path, SPEC, dry_run=True)
    assert result.outcome is Outcome.DRY_RUN and result.written == ("xmp", "c2pa")
    assert sha256_file(path) == digest and temps_in(path.parent) == []


def test_read_only_file_is_left_alone(media: Callable[..., Path], tagger: Tagger) -> None:
    path = media("jpeg")
    path.chmod(0o444)
    digest = sha256_file(path)
    result = tagger.tag(path, SPEC)
    assert result.outcome is Outcome.ERROR and "read-only" in (result.reason or "")
    assert sha256_file(path) == digest
    # The declared way out: a sidecar beside it, the bytes untouched.
    side = tagger.tag(path, SPEC, sidecar_only=True)
    assert side.outcome is Outcome.SIDECAR and sha256_file(path) == digest


def test_unsupported_format(tmp_path: Path, tagger: Tagger) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("not media\n")
    result = tagger.tag(path, SPEC)
    assert result.outcome is Outcome.ERROR and "unsupported format" in (result.reason or "")
    assert path.read_text() == "not media\n" and not Path(f"{path}.xmp").exists()


def test_errors_do_not_stop_a_batch(tmp_path: Path, media: Callable[..., Path],
                                    tagger: Tagger) -> None:
    good = media("jpeg")
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    results = tagger.tag_many([empty, tmp_path / "missing.jpg", good], SPEC)
    assert [r.outcome for r in results] == [Outcome.ERROR, Outcome.ERROR, Outcome.WRITTEN]
    assert "empty" in (results[0].reason or "") and "no such file" in (results[1].reason or "")


@pytest.mark.parametrize("name", ["with space.jpg", "new\nline.jpg", "-leading-dash.jpg",
                                  "ünïcode.jpg"])
def test_awkward_names(name: str, media: Callable[..., Path], tagger: Tagger,
                       reader_settings: ReaderSettings) -> None:
    path = media("jpeg", name)
    result = tagger.tag(path, SPEC)
    assert result.outcome is Outcome.WRITTEN, result
    assert sorted(p.name for p in path.parent.iterdir()) == [name]
    with Inspector(reader_settings) as inspector:
        verdict = inspector.inspect(path)
    assert verdict.classification is Classification.AI_GENERATED
    assert verdict.declarations.tool == "Runway"


def test_mode_kept_and_symlink_kept(tmp_path: Path, media: Callable[..., Path],
                                    tagger: Tagger) -> None:
    path = media("jpeg")
    path.chmod(0o640)
    link = tmp_path / "link.jpg"
    link.symlink_to(path.name)
    assert tagger.tag(link, SPEC).outcome is Outcome.WRITTEN
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert link.is_symlink() and link.resolve() == path.resolve()


def test_non_utf8_name(tmp_path: Path, media: Callable[..., Path], tagger: Tagger) -> None:
    raw = os.fsencode(tmp_path) + b"/bad\xff.jpg"
    src = media("jpeg")
    os.rename(src, raw)
    result = tagger.tag(os.fsdecode(raw), SPEC)
    assert result.outcome is Outcome.WRITTEN, result
    assert temps_in(tmp_path) == []


def test_stale_temps_are_cleaned_and_live_ones_kept(media: Callable[..., Path],
                                                    tagger: Tagger) -> None:
    path = media("jpeg")
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    dead_pid = int(dead.stdout)
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        host_part = temp_path(path).name[len(TMP_PREFIX):].split(".")[0]
        stale = path.parent / f"{TMP_PREFIX}{host_part}.{dead_pid}.abc.jpg"
        alive = path.parent / f"{TMP_PREFIX}{host_part}.{live.pid}.abc.jpg"
        stale.write_bytes(b"half a file")
        alive.write_bytes(b"being written")
        assert tagger.tag(path, SPEC).outcome is Outcome.WRITTEN
        assert not stale.exists() and alive.exists()
        assert clean_stale_temps(path.parent) == []
    finally:
        live.kill()
        live.wait()
    assert clean_stale_temps(path.parent) == [alive]


def test_watcher_ignores_our_temps(tmp_path: Path) -> None:
    config = Config(base_dir=tmp_path)
    name = temp_path(tmp_path / "plate.mov").name
    assert name.startswith(TMP_PREFIX)
    assert config.is_ignored(tmp_path / name)
    assert config.is_ignored(tmp_path / f"{name}_exiftool_tmp")
    assert not config.is_ignored(tmp_path / "plate.mov")


def test_temp_file_is_not_tagged(tmp_path: Path, media: Callable[..., Path],
                                 tagger: Tagger) -> None:
    path = media("jpeg", f"{TMP_PREFIX}x.1.abc.jpg")
    result = tagger.tag(path, SPEC)
    assert result.outcome is Outcome.ERROR and "temporary" in (result.reason or "")


def test_stale_sidecar_is_rewritten(media: Callable[..., Path], tagger: Tagger) -> None:
    path = media("exr")
    assert tagger.tag(path, SPEC).outcome is Outcome.SIDECAR
    with open(path, "ab") as fh:
        fh.write(b"\0")  # the plate changed: the sidecar no longer describes it
    again = tagger.tag(path, SPEC)
    assert again.outcome is Outcome.SIDECAR
    assert again.sha256_after == sha256_file(path)
