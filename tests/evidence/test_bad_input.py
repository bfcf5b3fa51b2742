"""Bad input: every file gets a verdict (an error naming the reason, or a correct class);
nothing crashes, nothing hangs, no ExifTool argument injection."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from provenance import pipeline
from provenance.evidence import ReaderSettings
from provenance.evidence import registry as reg
from provenance.evidence._exiftool import ExifToolFailure, ExifToolProcess
from provenance.model import Classification
from provenance.pipeline import Inspector
from tests.evidence.conftest import (
    Sign,
    created_action,
    exiftool_write,
    make_jpeg,
    make_png,
    manifest,
)
from tests.evidence.test_metadata import A1111

pytestmark = pytest.mark.usefixtures("exiftool_available")
AI = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"


def _one(path: str | Path):
    with Inspector() as ins:
        return ins.inspect(path)


def test_zero_byte_file_is_judged_like_any_file(tmp_path: Path) -> None:
    (tmp_path / "empty.jpg").touch()
    v = _one(tmp_path / "empty.jpg")
    assert (v.classification, v.errors, v.size) == (Classification.UNKNOWN, (), 0)
    assert v.path.endswith("empty.jpg") and v.sha256 == hashlib.sha256(b"").hexdigest()


def _noisy_tagged_jpeg(tmp_path: Path) -> Path:
    from PIL import Image
    path = tmp_path / "full.jpg"
    Image.effect_noise((256, 256), 60).convert("RGB").save(path, "JPEG", quality=95)
    return exiftool_write(path, f"-XMP-iptcExt:DigitalSourceType={AI}")


def test_truncated_jpeg_inside_headers_is_an_error(tmp_path: Path) -> None:
    full = _noisy_tagged_jpeg(tmp_path)
    cut = tmp_path / "cut.jpg"
    cut.write_bytes(full.read_bytes()[:300])  # inside the XMP segment
    v = _one(cut)
    assert v.errors and any("damaged file" in e for e in v.errors), v


def test_truncated_jpeg_inside_scan_data_keeps_its_metadata(tmp_path: Path) -> None:
    """Like ExifTool, we do not decode pixels: the intact header still states the claim."""
    full = _noisy_tagged_jpeg(tmp_path)
    cut = tmp_path / "cut.jpg"
    cut.write_bytes(full.read_bytes()[: full.stat().st_size * 2 // 3])
    v = _one(cut)
    assert not v.errors and v.classification is Classification.AI_GENERATED


def test_truncated_png_is_an_error(tmp_path: Path) -> None:
    full = make_png(tmp_path / "full.png", {"parameters": A1111})
    cut = tmp_path / "cut.png"
    cut.write_bytes(full.read_bytes()[: full.stat().st_size * 2 // 3])
    v = _one(cut)
    assert v.errors and any("damaged file" in e for e in v.errors), v


def test_corrupt_jumbf(tmp_path: Path, sign: Sign) -> None:
    dst = sign(make_jpeg(tmp_path / "s.jpg"), tmp_path / "signed.jpg",
               manifest(created_action(AI)), "image/jpeg")
    data = bytearray(dst.read_bytes())
    app11 = data.find(b"\xff\xeb")
    assert app11 > 0
    for i in range(app11 + 40, app11 + 400, 7):  # inside the JUMBF boxes
        data[i] ^= 0x5A
    bad = tmp_path / "corrupt.jpg"
    bad.write_bytes(bytes(data))
    v = _one(bad)
    # Either the manifest cannot be parsed (an error naming C2PA) or it parses as tampered.
    assert v.errors or v.tampered, v
    if v.errors:
        assert any(e.startswith("c2pa:") for e in v.errors)


def test_sparse_3gb_file(tmp_path: Path) -> None:
    big = tmp_path / "sparse.mov"
    with open(big, "wb") as fh:
        fh.truncate(3 * 1024**3)
    v = _one(big)
    assert v.size == 3 * 1024**3 and v.sha256
    assert v.classification is Classification.UNKNOWN
    # ExifTool reports "Entire file is binary zeros": read, but not an asset we can judge
    assert all("zeros" in e for e in v.errors)


def test_no_read_permission(tmp_path: Path) -> None:
    """Root ignores mode bits, so the check runs in a child that drops to uid 65534."""
    folder = Path(tempfile.mkdtemp(prefix="prov-perm-"))
    try:
        folder.chmod(0o755)
        secret = make_jpeg(folder / "secret.jpg")
        secret.chmod(0o000)
        script = (
            "import json, os, sys\n"
            "from provenance.pipeline import Inspector\n"
            "ins = Inspector(readers=('c2pa',))\n"
            "os.setgroups([]); os.setgid(65534); os.setuid(65534)\n"
            "v = ins.inspect(sys.argv[1]); print(json.dumps(v.to_dict()))\n"
        )
        if os.geteuid() != 0:
            pytest.skip("needs root to drop privileges in the child")
        run = subprocess.run([sys.executable, "-c", script, str(secret)], capture_output=True,
                             text=True, timeout=60, check=True)
        out = json.loads(run.stdout)
        assert out["errors"] == ["permission denied (no read permission)"]
        assert out["path"] == str(secret)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def test_symlink_loop(tmp_path: Path) -> None:
    (tmp_path / "a").symlink_to(tmp_path / "b")
    (tmp_path / "b").symlink_to(tmp_path / "a")
    with Inspector() as ins:
        verdicts = list(ins.inspect_paths([tmp_path]))
    assert {Path(v.path).name for v in verdicts} == {"a", "b"}
    assert all(v.errors == ("symlink loop",) for v in verdicts)


@pytest.mark.parametrize("name", [
    "with space.png", "new\nline.png", "-leading-dash.png", "-@", "-ext", "tab\there.png",
    os.fsdecode(b"bad\xff\xfebytes.png"),
], ids=["space", "newline", "dash", "at-file", "option-name", "tab", "non-utf8"])
def test_hostile_names_are_read_correctly(tmp_path: Path, name: str) -> None:
    path = make_png(tmp_path / name, {"parameters": A1111})
    v = _one(path)
    assert not v.errors, v.errors
    assert v.classification is Classification.AI_GENERATED
    assert v.path == str(path)


def test_hostile_names_through_the_cli(tmp_path: Path) -> None:
    make_png(tmp_path / "-x.png", {"parameters": A1111})
    make_png(tmp_path / os.fsdecode(b"\xffnl\n.png"), {"parameters": A1111})
    run = subprocess.run([sys.executable, "-m", "provenance", "inspect", "--json", str(tmp_path)],
                         capture_output=True, timeout=120)
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout)["verdicts"]
    assert [o["classification"] for o in out] == ["ai_generated", "ai_generated"]


# Hangs on a PNG text chunk named "parameters" (the reader runs without Composite tags, so
# a hang there would never be reached).
HANG_CONFIG = """%Image::ExifTool::UserDefined = (
    'Image::ExifTool::PNG::TextualData' => {
        parameters => { Name => 'Parameters', ValueConv => 'sleep 60; $val' },
    },
);
1;
"""


def test_exiftool_hang_is_killed_and_replaced(tmp_path: Path) -> None:
    config = tmp_path / "hang.config"
    config.write_text(HANG_CONFIG)
    png = make_png(tmp_path / "a.png", {"parameters": A1111})
    proc = ExifToolProcess(config)
    try:
        with pytest.raises(ExifToolFailure, match="timed out"):
            proc.read(png, 1.0)
        assert proc.restarts == 1
    finally:
        proc.close()


def test_exiftool_death_is_survived(tmp_path: Path) -> None:
    png = make_png(tmp_path / "a.png", {"parameters": A1111})
    proc = ExifToolProcess()
    try:
        assert "PNG:Parameters" in proc.read(png, 10)
        os.kill(proc._helper._process.pid, 9)  # type: ignore[union-attr]
        assert "PNG:Parameters" in proc.read(png, 10)
    finally:
        proc.close()


@pytest.fixture
def test_readers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(reg.BUILTIN_READERS, "boom", "tests.evidence.plugins:Boom")
    monkeypatch.setitem(reg.BUILTIN_READERS, "stuck", "tests.evidence.plugins:Stuck")
    monkeypatch.setattr(pipeline, "_BACKSTOP_GRACE_S", 0.0)


@pytest.mark.usefixtures("test_readers")
def test_a_crashing_reader_costs_one_error_not_the_run(tmp_path: Path) -> None:
    png = make_png(tmp_path / "a.png", {"parameters": A1111})
    with Inspector(readers=("boom", "metadata")) as ins:
        v = ins.inspect(png)
    assert v.classification is Classification.AI_GENERATED
    assert v.errors == ("boom: internal error: RuntimeError: reader bug",)


@pytest.mark.usefixtures("test_readers")
def test_a_stuck_reader_is_abandoned(tmp_path: Path) -> None:
    from tests.evidence.plugins import Stuck
    Stuck.release.clear()
    hang, fine = make_jpeg(tmp_path / "hang.jpg"), make_jpeg(tmp_path / "fine.jpg")
    try:
        with Inspector(ReaderSettings(time_limit_s=0.5), readers=("stuck",)) as ins:
            first, second = ins.inspect(hang), ins.inspect(fine)
    finally:
        Stuck.release.set()
    assert first.errors and "timed out" in first.errors[0]
    assert not second.errors


# A hang on one file only (named hang*), on top of the shipped configuration.
HANG_ONE_CONFIG = """do '{base}';
$Image::ExifTool::UserDefined{{'Image::ExifTool::PNG::TextualData'}} = {{
    parameters => {{ Name => 'Parameters',
                     ValueConv => '$$self{{FILENAME}} =~ m{{/hang[^/]*$}} and sleep 60; $val' }},
}};
1;
"""


def test_a_batch_answers_each_file_as_a_single_read_would(tmp_path: Path) -> None:
    ai = make_png(tmp_path / "-ai one.png", {"parameters": A1111})
    plain = make_jpeg(tmp_path / "plain.jpg")
    newline = make_png(tmp_path / "new\nline.png", {"parameters": A1111})
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    missing = tmp_path / "gone.png"
    batch = [ai, plain, newline, empty, missing]
    proc = ExifToolProcess()
    try:
        many = proc.read_many(batch, 10)
        assert many[0] is not None and "PNG:Parameters" in many[0]
        assert many[2] is not None and "PNG:Parameters" in many[2]
        assert many[4] is None  # left out of the answer: the caller reads it alone to learn why
        for path, tags in zip(batch[:4], many[:4], strict=True):
            assert tags is not None
            single = proc.read(path, 10)
            drop = {"System:FileAccessDate", "System:FileInodeChangeDate", "System:FileName",
                    "System:Directory"}  # a newline name is read through a private link
            assert {k: v for k, v in tags.items() if k not in drop} == \
                   {k: v for k, v in single.items() if k not in drop}, path
    finally:
        proc.close()
    with Inspector() as ins:
        verdicts = ins.inspect_many(batch)
        singles = [ins.inspect(p) for p in batch]
    assert [v.path for v in verdicts] == [str(p) for p in batch]
    assert [(v.classification, v.errors) for v in verdicts] == [(v.classification, v.errors) for v in singles]
    assert verdicts[0].classification is Classification.AI_GENERATED
    assert verdicts[4].errors and verdicts[4].sha256 is None


def test_an_exiftool_hang_in_a_batch_costs_only_the_file_at_fault(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import functools

    from provenance.evidence import _exiftool
    config = tmp_path / "hang-one.config"
    config.write_text(HANG_ONE_CONFIG.format(base=_exiftool.CONFIG_FILE))
    monkeypatch.setattr(_exiftool, "ExifToolProcess", functools.partial(ExifToolProcess, config))
    files = [make_png(tmp_path / f"{name}.png", {"parameters": A1111}) for name in ("a", "hang", "b")]
    with Inspector(ReaderSettings(time_limit_s=1.0), readers=("metadata",)) as ins:
        verdicts = ins.inspect_many(files)
    a, hang, b = verdicts
    assert any("timed out" in e for e in hang.errors), hang.errors
    for v in (a, b):
        assert not v.errors, v.errors
        assert v.classification is Classification.AI_GENERATED


@pytest.mark.usefixtures("test_readers")
def test_a_stuck_reader_in_a_batch_costs_only_that_file(tmp_path: Path) -> None:
    from tests.evidence.plugins import Stuck
    Stuck.release.clear()
    files = [make_jpeg(tmp_path / f"{name}.jpg") for name in ("first", "hang", "third", "fourth")]
    try:
        with Inspector(ReaderSettings(time_limit_s=0.5), readers=("stuck",)) as ins:
            verdicts = ins.inspect_many(files)
    finally:
        Stuck.release.set()
    assert [bool(v.errors) for v in verdicts] == [False, True, False, False]
    assert "timed out" in verdicts[1].errors[0]
