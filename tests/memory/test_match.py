"""Memory recognises real derivatives of AI files, and leaves unrelated files alone.

Each test makes one derivative with a real tool and asserts the match; with matching
switched off (an empty Memory, or no hashes) every one of them fails.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image, ImageEnhance

from provenance.fingerprint import Kind
from provenance.memory.match import MATCH_RADIUS, REVIEW_RADIUS, Band, Memory, clock
from tests.memory.conftest import ffmpeg, fp, original

pytestmark = pytest.mark.usefixtures("media_tools")

AI_STILLS = ("d02_Firefly_tabby_cat.jpg", "d05_amazon-titan-g1.png", "d10_sd-webui.png", "d13_invokeai.png")
AI_VIDEO = "d06_sorastats_sora_standard.mp4"


@pytest.fixture(scope="module")
def memory(corpus_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Memory:
    audio = tmp_path_factory.mktemp("audio") / "sora_audio.wav"
    ffmpeg("-i", str(corpus_dir / AI_VIDEO), "-vn", str(audio))
    return Memory([original(corpus_dir / n) for n in (*AI_STILLS, AI_VIDEO)] + [original(audio)])


def _one(memory: Memory, path: Path, name: str) -> str:
    matches = memory.match(fp(path))
    assert matches, f"{path.name}: no match"
    best = matches[0]
    assert best.band is Band.MATCH and best.original.name == name, best
    return best.description


def test_stripped_copy_is_the_same_decoded_pixels(memory: Memory, corpus_dir: Path, tmp_path: Path) -> None:
    dst = tmp_path / "x.png"
    shutil.copyfile(corpus_dir / "d10_sd-webui.png", dst)
    subprocess.run(["exiftool", "-q", "-q", "-all=", "-overwrite_original", str(dst)], check=True)
    assert _one(memory, dst, "d10_sd-webui.png") == "same decoded pixels"


@pytest.mark.parametrize("edit", ["jpeg", "resize", "crop", "grade"])
def test_stills_survive_ordinary_edits(memory: Memory, corpus_dir: Path, tmp_path: Path, edit: str) -> None:
    img = Image.open(corpus_dir / "d13_invokeai.png").convert("RGB")
    w, h = img.size
    out = {"jpeg": lambda: img,
           "resize": lambda: img.resize((w // 3, h // 3), Image.Resampling.LANCZOS),
           "crop": lambda: img.crop((int(w * 0.05), int(h * 0.01), w - int(w * 0.02), h - int(h * 0.06))),
           "grade": lambda: ImageEnhance.Contrast(ImageEnhance.Brightness(img).enhance(1.05)).enhance(0.88),
           }[edit]()
    out.save(tmp_path / "d.jpg", quality=75)
    text = _one(memory, tmp_path / "d.jpg", "d13_invokeai.png")
    assert text.startswith("looks like d13_invokeai.png: perceptual distance ") and text.endswith(" of 256")


def test_a_still_rendered_into_a_clip_is_found_over_its_length(memory: Memory, corpus_dir: Path,
                                                               tmp_path: Path) -> None:
    clip = tmp_path / "still.mp4"
    ffmpeg("-loop", "1", "-i", str(corpus_dir / "d05_amazon-titan-g1.png"), "-t", "2", "-r", "24", "-vf",
           "scale=1920:1080:force_original_aspect_ratio=decrease,pad=1920:1080:(ow-iw)/2:(oh-ih)/2",
           "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", str(clip))
    text = _one(memory, clip, "d05_amazon-titan-g1.png")
    assert text.startswith("00:00.0–00:02.") and "shows d05_amazon-titan-g1.png" in text


def test_an_ai_clip_cut_into_an_unrelated_video_is_found_with_its_time_range(
        memory: Memory, corpus_dir: Path, tmp_path: Path) -> None:
    dst = tmp_path / "edit.mp4"
    fit = "scale=640:360:force_original_aspect_ratio=decrease,pad=640:360:(ow-iw)/2:(oh-ih)/2,setsar=1,fps=24"
    ffmpeg("-i", str(corpus_dir / "d25_sony_official_teletrax.mp4"), "-ss", "4", "-t", "2",
           "-i", str(corpus_dir / AI_VIDEO), "-filter_complex",
           f"[0:v]trim=0:3,setpts=PTS-STARTPTS,{fit}[a];[1:v]setpts=PTS-STARTPTS,{fit}[b];"
           f"[0:v]trim=3:5,setpts=PTS-STARTPTS,{fit}[c];[a][b][c]concat=n=3:v=1[v]",
           "-map", "[v]", "-c:v", "libx264", "-preset", "ultrafast", "-crf", "28", str(dst))
    [m] = [m for m in memory.match(fp(dst)) if m.original.fingerprint.kind is Kind.VIDEO]
    assert m.band is Band.MATCH and m.query_range and m.original_range
    assert m.query_range[0] == pytest.approx(3.0, abs=0.5) and m.query_range[1] == pytest.approx(5.0, abs=0.5)
    assert m.original_range[0] == pytest.approx(4.0, abs=0.5)
    assert f"matches {clock(m.original_range[0])}" in m.description and AI_VIDEO in m.description


def test_a_frame_grab_names_the_time_in_the_original(memory: Memory, corpus_dir: Path,
                                                    tmp_path: Path) -> None:
    ffmpeg("-ss", "6.1", "-i", str(corpus_dir / AI_VIDEO), "-frames:v", "1", str(tmp_path / "grab.jpg"))
    [m] = [m for m in memory.match(fp(tmp_path / "grab.jpg")) if m.band is Band.MATCH]
    assert m.original.name == AI_VIDEO and m.original_range
    assert m.original_range[0] == pytest.approx(6.1, abs=0.6)


def test_transcoded_trimmed_audio_is_found_with_its_offset(memory: Memory, tmp_path: Path) -> None:
    src = next(o for o in memory.originals if o.fingerprint.kind is Kind.AUDIO).paths[0]
    ffmpeg("-ss", "2", "-i", src, "-t", "4", "-c:a", "libmp3lame", "-b:a", "128k", str(tmp_path / "a.mp3"))
    matches = memory.match(fp(tmp_path / "a.mp3"))
    # the sound file and the AI video it came from (memory knows the video's sound too)
    assert sorted(m.original.name for m in matches) == [AI_VIDEO, "sora_audio.wav"]
    for m in matches:
        assert m.how == "audio" and m.original_range and m.original_range[0] == pytest.approx(2.0, abs=0.5)


@pytest.mark.parametrize("name", ["d23_crater-lake.jpeg", "d26_t8.jpg", "d35_tiktok_human_video.mp4"])
def test_unrelated_files_match_nothing(memory: Memory, corpus_dir: Path, name: str) -> None:
    assert memory.match(fp(corpus_dir / name)) == []


def test_an_empty_memory_matches_nothing(corpus_dir: Path) -> None:
    assert Memory([]).match(fp(corpus_dir / "d13_invokeai.png")) == []


def test_the_thresholds_leave_a_review_band() -> None:
    assert 0 < MATCH_RADIUS < REVIEW_RADIUS < 128  # 128 = what unrelated 256-bit hashes average


def test_three_seconds_of_unrelated_sound_match_no_audio(corpus_dir: Path, tmp_path: Path) -> None:
    """Three seconds give chromaprint three sub-fingerprints, too few to tell sounds apart: 3 s
    trims of a non-AI camera clip matched the corpus's AI audio at 0 % bit error (9 of 64 starts
    in the robustness run). A tone repeats one value; neither is evidence of anything."""
    origs = []
    for n in ("d06_sorastats_sora_standard.mp4", "d18_tiktok_ai_generated.mp4", "d19_prmiere-firefly.mp4"):
        ffmpeg("-i", str(corpus_dir / n), "-vn", str(tmp_path / f"{n}.wav"))
        origs.append(original(tmp_path / f"{n}.wav"))
    memory = Memory(origs)
    queries = []
    for start in ("0.5", "0.75", "1.0"):
        queries.append(tmp_path / f"cam-{start}.mp3")
        ffmpeg("-ss", start, "-i", str(corpus_dir / "d34_long_continuous_watermarked.mp4"), "-t", "3", "-vn",
               "-c:a", "libmp3lame", "-b:a", "160k", str(queries[-1]))
    queries.append(tmp_path / "tone.wav")
    ffmpeg("-f", "lavfi", "-i", "sine=frequency=440:duration=8", str(queries[-1]))
    for q in queries:
        assert [m for m in memory.match(fp(q)) if m.how == "audio"] == [], q.name
