"""Media inside other files: archives, PDFs, cover art and attachments are opened and judged.

Each container is built with real tools (zipfile/tarfile, `zip -e`, zstd, img2pdf, pypdf,
ffmpeg) around real AI files from the corpus, and the real gate is run on a package holding
it: an AI member blocks (exit 1), a container whose members cannot all be judged is undecided
(exit 3, with the reason), an archive of ordinary files is not blocked for AI.
"""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import tarfile
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import img2pdf
import pypdf
import pytest

from provenance.cli import main
from provenance.evidence import ReaderSettings
from provenance.evidence._unpack import Limits
from provenance.evidence.containers import ContainersReader, container_kinds
from provenance.evidence.registry import DEFAULT_READERS
from provenance.identify import identify
from tests.conftest import Admin
from tests.evidence.conftest import exiftool_write
from tests.gate.conftest import CONFIG, PROVENANCE, Show, asset

AI_IPTC = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
A1111_PNG = "d10_sd-webui.png"  # PNG tEXt parameters (A1111)
INVOKE_PNG = "d13_invokeai.png"
FIREFLY_JPG = "d02_Firefly_tabby_cat.jpg"  # C2PA c2pa.created trainedAlgorithmicMedia
CIVITAI_JPG = "d17_civitai.jpeg"  # EXIF UserComment infotext
CAMERA_JPG = "d23_crater-lake.jpeg"  # not AI
EMPTY_JPG = "d33_empty.jpg"  # unknown
MP3 = "d36_sample1.mp3"


@pytest.fixture
def show(tmp_path: Path, exiftool_available: None, admin: Admin) -> Show:
    root = tmp_path / "show"
    (root / ".provenance").mkdir(parents=True)
    (root / "provenance.toml").write_text(CONFIG)
    pkg = root / "deliveries" / "EP101"
    pkg.mkdir(parents=True)
    return Show(root, pkg, admin)


def gate(show: Show, capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, Any]]:
    capsys.readouterr()
    rc = main(["gate", "--config", str(show.config_file), "--json", str(show.pkg)])
    return rc, json.loads(capsys.readouterr().out)


def inspect_json(path: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    capsys.readouterr()
    main(["inspect", "--json", str(path)])
    return json.loads(capsys.readouterr().out)["verdicts"][0]  # type: ignore[no-any-return]


def assert_blocked(show: Show, capsys: pytest.CaptureFixture[str], name: str) -> dict[str, Any]:
    rc, report = gate(show, capsys)
    entry = asset(report, name)
    assert rc == 1 and entry["status"] == "blocked", entry
    assert entry["classification"] in ("ai_generated", "ai_edited"), entry
    return entry


def assert_undecided(show: Show, capsys: pytest.CaptureFixture[str], name: str, *needles: str) -> str:
    rc, report = gate(show, capsys)
    entry = asset(report, name)
    assert rc == 3 and entry["status"] == "undecided", entry
    text = "\n".join(entry["reasons"])
    for needle in needles:
        assert needle in text, f"{needle!r} not in reasons:\n{text}"
    return text


def member_fields(verdict: dict[str, Any]) -> list[str]:
    return [e["field"] for e in verdict["evidence"] if e["source"] == "container" and e["signal"] != "info"]


def make_zip(path: Path, members: dict[str, Path | bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, src in members.items():
            zf.writestr(name, src if isinstance(src, bytes) else src.read_bytes())
    return path


def make_tar(path: Path, members: dict[str, Path], mode: str = "w") -> Path:
    with tarfile.open(path, mode) as tf:  # type: ignore[call-overload]
        for name, src in members.items():
            tf.add(src, arcname=name)
    return path


def ffmpeg(*args: str | Path) -> None:
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", *map(str, args)], check=True)


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A one-second H.264 clip with no provenance of its own."""
    if shutil.which("ffmpeg") is None:
        pytest.fail("ffmpeg is not installed: run ./dev setup")
    out = tmp_path_factory.mktemp("clip") / "base.mp4"
    ffmpeg("-f", "lavfi", "-i", "color=c=blue:s=64x64:d=1", "-c:v", "libx264", "-pix_fmt", "yuv420p", out)
    return out


# -- archives -----------------------------------------------------------------------------


def test_zip_holding_an_ai_png_is_blocked_and_names_the_member(
        show: Show, corpus_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    make_zip(show.pkg / "package.zip", {"renders/sky.png": corpus_dir / A1111_PNG,
                                        "notes.txt": b"final grade notes\n"})
    assert_blocked(show, capsys, "package.zip")
    fields = member_fields(inspect_json(show.pkg / "package.zip", capsys))
    assert any(f.startswith("member renders/sky.png inside package.zip: png PNG:Parameters")
               for f in fields), fields


@pytest.mark.parametrize("mode, name", [("w", "plates.tar"), ("w:gz", "plates.tar.gz"),
                                        ("w:bz2", "plates.tbz"), ("w:xz", "plates.txz")])
def test_tar_plain_and_compressed_holding_ai_is_blocked(
        show: Show, corpus_dir: Path, capsys: pytest.CaptureFixture[str], mode: str, name: str) -> None:
    make_tar(show.pkg / name, {"ep101/plate.png": corpus_dir / INVOKE_PNG,
                               "ep101/photo.jpg": corpus_dir / CAMERA_JPG}, mode)
    assert_blocked(show, capsys, name)


def test_one_compressed_file_is_judged_as_what_it_inflates_to(
        show: Show, corpus_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with open(show.pkg / "still.jpg.gz", "wb") as out:
        subprocess.run(["gzip", "-c", str(corpus_dir / CIVITAI_JPG)], stdout=out, check=True)
    assert_blocked(show, capsys, "still.jpg.gz")


def test_office_and_epub_files_are_zips_and_their_media_is_judged(
        show: Show, corpus_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    make_zip(show.pkg / "pitch.pptx", {"[Content_Types].xml": b"<Types/>",
                                       "ppt/media/image1.jpg": corpus_dir / FIREFLY_JPG})
    assert_blocked(show, capsys, "pitch.pptx")


def test_nested_archives_are_opened_and_the_chain_is_named(
        show: Show, corpus_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    inner = make_zip(tmp_path / "inner.zip", {"sky.png": corpus_dir / A1111_PNG})
    make_tar(show.pkg / "outer.tar.gz", {"vfx/inner.zip": inner}, "w:gz")
    assert_blocked(show, capsys, "outer.tar.gz")
    fields = member_fields(inspect_json(show.pkg / "outer.tar.gz", capsys))
    assert any(f.startswith("member sky.png inside vfx/inner.zip inside outer.tar.gz:")
               for f in fields), fields


def test_archive_of_ordinary_files_is_not_blocked_for_ai(
        show: Show, corpus_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    make_zip(show.pkg / "stills.zip", {"a.jpg": corpus_dir / CAMERA_JPG, "b.jpg": corpus_dir / EMPTY_JPG,
                                       "readme.txt": b"hello\n", "empty.dat": b""})
    make_tar(show.pkg / "more.tar.gz", {"c.jpg": corpus_dir / CAMERA_JPG}, "w:gz")
    rc, report = gate(show, capsys)
    assert rc == 0, report
    for name in ("stills.zip", "more.tar.gz"):
        assert asset(report, name)["status"] == "clear"
    verdict = inspect_json(show.pkg / "stills.zip", capsys)
    assert verdict["classification"] == "unknown"  # one member has no provenance: not all are not_ai
    assert not any(e["signal"] == "capture" for e in verdict["evidence"]), verdict["evidence"]


def test_member_names_cannot_escape_or_inject(
        show: Show, corpus_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    # A private temp root: other sessions' gates on this machine make members folders too.
    tmp = tmp_path / "tmp" / "a" / "b" / "c" / "d" / "e" / "f"
    tmp.mkdir(parents=True)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp))
    make_zip(show.pkg / "tricks.zip", {"../../../../../../escaped.png": corpus_dir / A1111_PNG,
                                       "/abs/x.png": corpus_dir / A1111_PNG,
                                       "evil\x1b[2J\nname.png": corpus_dir / A1111_PNG})
    assert_blocked(show, capsys, "tricks.zip")
    fields = member_fields(inspect_json(show.pkg / "tricks.zip", capsys))
    assert not [p for p in (tmp_path / "tmp").rglob("*") if p.is_file()]  # nothing escaped, nothing left
    assert not list(tmp.iterdir())  # the members folder is gone
    assert any("evil\\x1b[2J\\x0aname.png" in f for f in fields), fields
    assert not any("\x1b" in f or "\n" in f for f in fields)


def test_tar_concatenated_behind_the_first_is_read(show: Show, corpus_dir: Path, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    """`tar -i` extracts both archives of `cat a.tar b.tar`; tarfile alone stops at the first end."""
    first = make_tar(tmp_path / "a.tar", {"still.jpg": corpus_dir / EMPTY_JPG})
    second = make_tar(tmp_path / "b.tar", {"sky.png": corpus_dir / A1111_PNG})
    (show.pkg / "plates.tar").write_bytes(first.read_bytes() + second.read_bytes())
    assert_blocked(show, capsys, "plates.tar")


def test_sidecar_tagged_plate_zipped_with_its_sidecar_keeps_its_declarations(
        show: Show, clip: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """EXR cannot embed XMP, so its tag lives in `plate.exr.xmp`; zipped together, the sidecar is
    a member like any other and its claim (and declared risk) still counts."""
    from provenance.tagging import tag

    plate = tmp_path / "plate.exr"
    ffmpeg("-i", clip, "-frames:v", "1", "-c:v", "exr", "-pix_fmt", "gbrpf32le", plate)
    tag(plate, kind="generated", tool="Adobe Firefly", purpose="sky", risks=["talent-likeness"],
        sidecar_only=True, c2pa=False)
    sidecar = tmp_path / "plate.exr.xmp"
    assert sidecar.is_file()
    make_zip(show.pkg / "plates.zip", {"sh010/plate.exr": plate, "sh010/plate.exr.xmp": sidecar})
    entry = assert_blocked(show, capsys, "plates.zip")
    assert any("talent-likeness" in r for r in entry["reasons"]), entry["reasons"]


# -- what cannot be opened is undecided, with the reason -----------------------------------


def test_zip_entry_its_directory_does_not_list_is_undecided(
        show: Show, corpus_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A local entry before a ZIP whose directory lists only a harmless file: zipfile sees the
    harmless file alone, a streaming unzip (bsdtar, ZipInputStream) extracts the AI image too."""
    hidden = make_zip(tmp_path / "hidden.zip", {"sky.png": corpus_dir / A1111_PNG})
    with zipfile.ZipFile(hidden) as zf:
        local_part = hidden.read_bytes()[: zf.start_dir]
    listed = make_zip(tmp_path / "listed.zip", {"readme.txt": b"nothing to see\n"})
    (show.pkg / "package.zip").write_bytes(local_part + listed.read_bytes())
    with zipfile.ZipFile(show.pkg / "package.zip") as zf:
        assert zf.namelist() == ["readme.txt"]  # what a directory reader (and the old gate) sees
    assert_undecided(show, capsys, "package.zip", "package.zip", "does not list (at byte 0)")


def test_zip_bomb_is_undecided(show: Show, capsys: pytest.CaptureFixture[str]) -> None:
    with zipfile.ZipFile(show.pkg / "bomb.zip", "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf, \
            zf.open("zeros.png", "w", force_zip64=True) as fh:
        block = bytes(1 << 20)
        for _ in range(200):  # 200 MiB of zeros in a ~200 kB archive
            fh.write(block)
    assert (show.pkg / "bomb.zip").stat().st_size < 1 << 20
    assert_undecided(show, capsys, "bomb.zip", "bomb.zip", "zeros.png", "decompression bomb")


def test_gzip_bomb_is_undecided(show: Show, capsys: pytest.CaptureFixture[str]) -> None:
    with open(show.pkg / "frames.tar.gz", "wb") as out:  # 200 MiB of zeros, ~200 kB compressed
        subprocess.run("head -c 200M /dev/zero | gzip -9", shell=True, stdout=out, check=True)
    assert_undecided(show, capsys, "frames.tar.gz", "decompression bomb")


def test_nesting_deeper_than_the_limit_is_undecided(
        show: Show, corpus_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    current = make_zip(tmp_path / "level0.zip", {"sky.png": corpus_dir / EMPTY_JPG})
    for level in range(1, 6):
        current = make_zip(tmp_path / f"level{level}.zip", {current.name: current})
    shutil.copy(current, show.pkg / "deep.zip")
    assert_undecided(show, capsys, "deep.zip", "nested more than 4 levels deep")


def test_encrypted_member_is_undecided(show: Show, corpus_dir: Path, tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    shutil.copy(corpus_dir / A1111_PNG, tmp_path / "sky.png")
    subprocess.run(["zip", "-q", "-j", "-e", "-P", "secret", str(show.pkg / "locked.zip"),
                    str(tmp_path / "sky.png")], check=True)
    assert_undecided(show, capsys, "locked.zip", "locked.zip", "member sky.png is encrypted")


def test_too_many_members_is_an_error(tmp_path: Path) -> None:
    with zipfile.ZipFile(tmp_path / "many.zip", "w") as zf:
        for i in range(21):
            zf.writestr(f"f{i}.txt", b"x")
    reader = ContainersReader(ReaderSettings(), Limits(max_members=20))
    try:
        out = reader.read(identify(tmp_path / "many.zip"))
    finally:
        reader.close()
    assert out.errors == ["many.zip: more than 20 members (stopped at f20.txt)"], out.errors


def test_corrupt_member_is_undecided(show: Show, corpus_dir: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    data = bytearray(make_zip(show.pkg / "broken.zip", {"sky.png": corpus_dir / A1111_PNG}).read_bytes())
    data[200] ^= 0xFF  # inside the deflated member: CRC or inflate error
    (show.pkg / "broken.zip").write_bytes(bytes(data))
    assert_undecided(show, capsys, "broken.zip", "broken.zip", "not a readable ZIP")


def test_archive_kinds_without_a_reader_are_undecided(
        show: Show, corpus_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    tar = make_tar(tmp_path / "plates.tar", {"sky.png": corpus_dir / A1111_PNG})
    subprocess.run(["zstd", "-q", str(tar), "-o", str(show.pkg / "plates.tar.zst")], check=True)
    assert_undecided(show, capsys, "plates.tar.zst", "zstd archives cannot be opened here")
    (show.pkg / "plates.tar.zst").unlink()
    # The signature is what marks the kind; nothing here can open 7z or RAR.
    (show.pkg / "plates.7z").write_bytes(b"7z\xbc\xaf\x27\x1c\x00\x04" + bytes(64))
    (show.pkg / "plates.rar").write_bytes(b"Rar!\x1a\x07\x01\x00" + bytes(64))
    rc, report = gate(show, capsys)
    assert rc == 3
    assert "7z archives cannot be opened" in "\n".join(asset(report, "plates.7z")["reasons"])
    assert "RAR archives cannot be opened" in "\n".join(asset(report, "plates.rar")["reasons"])


# -- PDFs ----------------------------------------------------------------------------------


@pytest.mark.parametrize("source", [FIREFLY_JPG, "xmp"])
def test_pdf_embedding_an_ai_jpeg_is_blocked(show: Show, corpus_dir: Path, tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str], source: str) -> None:
    if source == "xmp":  # an ordinary photo, tagged AI in its own XMP (C2PA variant: Firefly)
        jpeg = Path(shutil.copy(corpus_dir / EMPTY_JPG, tmp_path / "tagged.jpg"))
        exiftool_write(jpeg, f"-XMP-iptcExt:DigitalSourceType={AI_IPTC}")
    else:
        jpeg = corpus_dir / source
    (show.pkg / "lookbook.pdf").write_bytes(img2pdf.convert(str(jpeg)))  # keeps the JPEG bytes
    assert_blocked(show, capsys, "lookbook.pdf")


def test_pdf_inline_jpeg_is_judged(show: Show, corpus_dir: Path, tmp_path: Path,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    """A JPEG drawn inline in the page's content stream (BI … ID <JPEG bytes> EI), XMP and all."""
    from PIL import Image
    from pypdf.generic import NameObject, StreamObject

    jpeg = Path(shutil.copy(corpus_dir / EMPTY_JPG, tmp_path / "tagged.jpg"))
    exiftool_write(jpeg, f"-XMP-iptcExt:DigitalSourceType={AI_IPTC}")
    width, height = Image.open(jpeg).size
    writer = pypdf.PdfWriter()
    page = writer.add_blank_page(200, 200)
    content = StreamObject()
    content.set_data(b"q 100 0 0 100 0 0 cm BI /W %d /H %d /CS /RGB /BPC 8 /F /DCT ID "
                     % (width, height) + jpeg.read_bytes() + b"\nEI Q\n")
    page[NameObject("/Contents")] = writer._add_object(content)
    with open(show.pkg / "storyboard.pdf", "wb") as fh:
        writer.write(fh)
    assert_blocked(show, capsys, "storyboard.pdf")


def test_pdf_attachment_is_judged(show: Show, corpus_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    writer = pypdf.PdfWriter()
    writer.add_blank_page(200, 200)
    writer.add_attachment("renders/sky.png", (corpus_dir / A1111_PNG).read_bytes())
    with open(show.pkg / "callsheet.pdf", "wb") as fh:
        writer.write(fh)
    assert_blocked(show, capsys, "callsheet.pdf")
    fields = member_fields(inspect_json(show.pkg / "callsheet.pdf", capsys))
    assert any("attachment renders/sky.png inside callsheet.pdf" in f for f in fields), fields


def test_pdf_of_an_ordinary_photo_is_not_blocked(show: Show, corpus_dir: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    (show.pkg / "photo.pdf").write_bytes(img2pdf.convert(str(corpus_dir / EMPTY_JPG)))
    shutil.copy(corpus_dir / "d40_companion-guide-conforming-products.pdf", show.pkg / "guide.pdf")
    rc, report = gate(show, capsys)
    assert rc == 0, report


def test_password_protected_pdf_is_undecided(show: Show, corpus_dir: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    pdf = img2pdf.convert(str(corpus_dir / CIVITAI_JPG))
    writer = pypdf.PdfWriter(clone_from=pypdf.PdfReader(io.BytesIO(pdf)))
    writer.encrypt("open-sesame", algorithm="AES-256")
    with open(show.pkg / "locked.pdf", "wb") as fh:
        writer.write(fh)
    assert_undecided(show, capsys, "locked.pdf", "locked.pdf", "encrypted with a password")


# -- audio and video -----------------------------------------------------------------------


def test_mp4_cover_art_is_judged(show: Show, corpus_dir: Path, clip: Path,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    ffmpeg("-i", clip, "-i", corpus_dir / A1111_PNG, "-map", "0", "-map", "1", "-c", "copy",
           "-disposition:v:1", "attached_pic", show.pkg / "trailer.mp4")
    assert_blocked(show, capsys, "trailer.mp4")


def test_mkv_attachment_is_judged(show: Show, corpus_dir: Path, clip: Path,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    # Declared as a font: what counts is the bytes, not the MIME type or the name it claims.
    ffmpeg("-i", clip, "-attach", corpus_dir / FIREFLY_JPG, "-metadata:s:t", "mimetype=font/ttf",
           "-metadata:s:t", "filename=subs.ttf", "-c", "copy", show.pkg / "episode.mkv")
    ffmpeg("-i", clip, "-attach", corpus_dir / A1111_PNG, "-metadata:s:t", "mimetype=image/png",
           "-c", "copy", show.pkg / "poster.mkv")
    rc, report = gate(show, capsys)
    assert rc == 1
    for name in ("episode.mkv", "poster.mkv"):
        assert asset(report, name)["status"] == "blocked", asset(report, name)


def test_mp3_picture_is_judged(show: Show, corpus_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ffmpeg("-i", corpus_dir / MP3, "-i", corpus_dir / INVOKE_PNG, "-map", "0", "-map", "1", "-c", "copy",
           "-disposition:v", "attached_pic", "-id3v2_version", "3", show.pkg / "theme.mp3")
    assert_blocked(show, capsys, "theme.mp3")


def test_flac_and_m4a_pictures_are_judged(show: Show, corpus_dir: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    ffmpeg("-i", corpus_dir / MP3, "-i", corpus_dir / A1111_PNG, "-map", "0:a", "-map", "1", "-c:a", "flac",
           "-c:v", "copy", "-disposition:v", "attached_pic", show.pkg / "stem.flac")
    ffmpeg("-i", corpus_dir / MP3, "-i", corpus_dir / A1111_PNG, "-map", "0:a", "-map", "1", "-c:a", "aac",
           "-c:v", "copy", "-disposition:v", "attached_pic", show.pkg / "mix.m4a")
    rc, report = gate(show, capsys)
    assert rc == 1
    for name in ("stem.flac", "mix.m4a"):
        assert asset(report, name)["status"] == "blocked", asset(report, name)


def _ffprobe_sees_members(path: Path) -> bool:
    done = subprocess.run(["ffprobe", "-v", "error", "-show_entries",
                           "stream=codec_type:stream_disposition=attached_pic", "-of", "json", str(path)],
                          capture_output=True, check=True)
    return any(st.get("codec_type") == "attachment" or st.get("disposition", {}).get("attached_pic") == 1
               for st in json.loads(done.stdout)["streams"])


def test_header_look_never_skips_what_ffprobe_would_find(corpus_dir: Path, clip: Path,
                                                         tmp_path: Path) -> None:
    """The header-only look that spares a plain video its ffprobe run may only skip: every file
    where ffprobe finds a picture or attachment must be looked into (real files and variants)."""
    made = []
    for i, (src, out, extra) in enumerate([
            (clip, "a.mp4", ["-map", "0", "-map", "1", "-c", "copy", "-disposition:v:1", "attached_pic"]),
            (clip, "b.mov", ["-map", "0", "-map", "1", "-c", "copy", "-disposition:v:1", "attached_pic"]),
            (corpus_dir / MP3, "c.mp3", ["-map", "0", "-map", "1", "-c", "copy", "-disposition:v",
                                         "attached_pic", "-id3v2_version", "4"]),
            (corpus_dir / MP3, "d.flac", ["-map", "0:a", "-map", "1", "-c:a", "flac", "-c:v", "copy",
                                          "-disposition:v", "attached_pic"])]):
        ffmpeg("-i", src, "-i", corpus_dir / (A1111_PNG if i % 2 else FIREFLY_JPG), *extra, tmp_path / out)
        made.append(tmp_path / out)
    moov_last = tmp_path / "e.mp4"  # cover art in a moov written before the samples (faststart)
    ffmpeg("-i", made[0], "-map", "0", "-c", "copy", "-movflags", "+faststart", moov_last)
    candidates = [*made, moov_last, clip, *sorted(corpus_dir.glob("*.mp4")), corpus_dir / MP3,
                  corpus_dir / "d27_t6.m4a"]
    reader = ContainersReader(ReaderSettings())
    seen = 0
    try:
        for path in candidates:
            if _ffprobe_sees_members(path):
                seen += 1
                assert reader.has_work(identify(path)), f"{path.name}: ffprobe finds members; skipped"
        assert seen >= 4  # mp4, faststart mp4, mp3, flac (ffmpeg writes no cover art into .mov)
        assert reader.has_work(identify(clip)) is False  # and a plain clip costs no ffprobe run
    finally:
        reader.close()


def test_video_without_embedded_pictures_is_unchanged(show: Show, clip: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    shutil.copy(clip, show.pkg / "plain.mp4")
    rc, report = gate(show, capsys)
    assert rc == 0 and asset(report, "plain.mp4")["status"] == "clear", report


# -- the reader's contract -------------------------------------------------------------------


def test_containers_reader_is_a_default_reader() -> None:
    assert "containers" in DEFAULT_READERS


def test_has_work_is_false_for_ordinary_files(tmp_path: Path, corpus_dir: Path, clip: Path) -> None:
    reader = ContainersReader(ReaderSettings())
    text = tmp_path / "notes.txt"
    text.write_text("grade notes\n")
    try:
        for path in (corpus_dir / CAMERA_JPG, corpus_dir / A1111_PNG, corpus_dir / "d14_novelai-curated.webp",
                     corpus_dir / "d32_signed_test.wav", corpus_dir / "d28_trustnxt-icon-signed-v2-bmff.heic",
                     text):
            assert reader.has_work(identify(path)) is False, path
        # A video with no picture box in its headers is not handed to ffprobe.
        assert reader.has_work(identify(clip)) is False
    finally:
        reader.close()


def test_container_kind_comes_from_content_not_the_name(tmp_path: Path, corpus_dir: Path) -> None:
    disguised = make_zip(tmp_path / "still.jpg", {"a.png": corpus_dir / A1111_PNG})
    assert container_kinds(identify(disguised)) == ("zip",)
    png_named_zip = Path(shutil.copy(corpus_dir / A1111_PNG, tmp_path / "x.zip"))
    assert container_kinds(identify(png_named_zip)) == ()


def test_zip_appended_to_an_image_is_judged(show: Show, corpus_dir: Path, tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    """An image+ZIP polyglot (or a self-extracting archive): every unzip tool opens it."""
    hidden = make_zip(tmp_path / "hidden.zip", {"sky.png": corpus_dir / A1111_PNG}).read_bytes()
    (show.pkg / "still.jpg").write_bytes((corpus_dir / CAMERA_JPG).read_bytes() + hidden)
    (show.pkg / "setup.bin").write_bytes(b"MZ" + bytes(4000) + hidden)
    with zipfile.ZipFile(show.pkg / "still.jpg") as zf:  # what a recipient's unzip sees
        assert zf.namelist() == ["sky.png"]
    rc, report = gate(show, capsys)
    assert rc == 1
    for name in ("still.jpg", "setup.bin"):
        assert asset(report, name)["status"] == "blocked", asset(report, name)


def test_chance_zip_signature_at_the_end_of_a_file_is_not_an_archive(
        show: Show, corpus_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    end_record = b"PK\x05\x06" + bytes(18)  # an empty-ZIP end record: zipfile opens it, no members
    garbage = b"PK\x05\x06" + b"\xff" * 18  # points nowhere: zipfile refuses it
    (show.pkg / "a.jpg").write_bytes((corpus_dir / CAMERA_JPG).read_bytes() + garbage)
    (show.pkg / "b.jpg").write_bytes((corpus_dir / EMPTY_JPG).read_bytes() + end_record)
    rc, report = gate(show, capsys)
    assert rc == 0, report


def test_pdf_with_bytes_before_its_header_is_still_a_pdf(show: Show, corpus_dir: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    pdf = img2pdf.convert(str(corpus_dir / CIVITAI_JPG))
    (show.pkg / "deck.pdf").write_bytes(b"\x00" * 300 + pdf)  # viewers still open it
    rc, report = gate(show, capsys)
    assert rc != 0 and asset(report, "deck.pdf")["status"] != "clear"
    # ExifTool calls it a format error (undecided either way); the image inside is still found.
    verdict = inspect_json(show.pkg / "deck.pdf", capsys)
    assert verdict["classification"] == "ai_generated", verdict


def test_the_real_cli_blocks_a_zip(show: Show, corpus_dir: Path) -> None:
    make_zip(show.pkg / "package.zip", {"renders/sky.png": corpus_dir / A1111_PNG})
    done = subprocess.run([str(PROVENANCE), "gate", "--config", str(show.config_file), str(show.pkg)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "BLOCKED" in done.stderr + done.stdout and "package.zip" in done.stderr + done.stdout
