"""Short sounds: the dense audio hash finds 3 s trims and transcodes of short AI sounds that
chromaprint (~8 items a second, refused under a floor) cannot, and never matches silence, a
steady tone or unrelated sound. Real ffmpeg transforms of the corpus's real AI sound."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from provenance.fingerprint import audio_hash
from provenance.memory.audio_match import MAX_BER, MIN_COMPARED, AudioHashIndex
from provenance.memory.match import Band, Memory
from tests.memory.conftest import ffmpeg, fp, original

pytestmark = pytest.mark.usefixtures("media_tools")

LONG_AI = "d06_sorastats_sora_standard.mp4"  # 10 s of AI sound
SHORT_AI = "d18_tiktok_ai_generated.mp4"  # 3 s of it kept as an AI sound of its own


@pytest.fixture(scope="module")
def sounds(corpus_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Memory, Path, Path]:
    d = tmp_path_factory.mktemp("short-audio")
    long_ai, short_ai = d / "sora.wav", d / "effect.wav"
    ffmpeg("-i", str(corpus_dir / LONG_AI), "-vn", str(long_ai))
    ffmpeg("-ss", "2", "-t", "3", "-i", str(corpus_dir / SHORT_AI), "-vn", str(short_ai))
    silent, tone = d / "silent.wav", d / "tone.wav"  # AI originals with nothing to recognise
    ffmpeg("-i", str(corpus_dir / "d19_prmiere-firefly.mp4"), "-vn", str(silent))  # digital silence
    ffmpeg("-f", "lavfi", "-i", "sine=frequency=1000:duration=5", str(tone))
    return Memory([original(p) for p in (long_ai, short_ai, silent, tone)]), long_ai, short_ai


def _hash_matches(memory: Memory, path: Path) -> list[str]:
    return [m.original.name for m in memory.match(fp(path))
            if m.band is Band.MATCH and "audio hash" in m.description]


def test_a_three_second_trim_of_a_longer_ai_sound_is_found_with_its_offset(
        sounds: tuple[Memory, Path, Path], tmp_path: Path) -> None:
    memory, long_ai, _ = sounds
    q = tmp_path / "trim.mp3"
    ffmpeg("-ss", "4.3", "-i", str(long_ai), "-t", "3", "-c:a", "libmp3lame", "-b:a", "160k", str(q))
    [m] = [m for m in memory.match(fp(q)) if m.original.name == "sora.wav"]
    assert m.band is Band.MATCH and "audio hash bit error" in m.description
    assert m.original_range and m.original_range[0] == pytest.approx(4.3, abs=0.1)
    assert m.query_range and m.query_range[1] - m.query_range[0] == pytest.approx(3.0, abs=0.3)
    assert "00:04.3–00:07." in m.description  # "00:00.0–00:03.0 sounds like 00:04.3–00:07.3 of sora.wav"


@pytest.mark.parametrize("how", [["-c:a", "libmp3lame", "-b:a", "128k"], ["-c:a", "aac", "-b:a", "96k"],
                                 ["-ss", "0.5", "-t", "2", "-c:a", "libmp3lame", "-b:a", "160k"]],
                         ids=["mp3", "aac", "2s-trim"])
def test_a_short_ai_sound_is_found_transcoded_and_trimmed(
        sounds: tuple[Memory, Path, Path], tmp_path: Path, how: list[str]) -> None:
    memory, _, short_ai = sounds
    q = tmp_path / ("q.m4a" if "aac" in how else "q.mp3")
    ffmpeg("-i", str(short_ai), *how, str(q))
    assert "effect.wav" in _hash_matches(memory, q)


@pytest.mark.parametrize("source", ["lavfi:anullsrc=r=48000:cl=stereo", "lavfi:sine=frequency=1000",
                                    "lavfi:sine=frequency=440", "d35_tiktok_human_video.mp4",
                                    "d36_sample1.mp3", "d24_PTS_TRUSTED_sony_official_cawg_wdr.mp4"])
def test_silence_tones_and_unrelated_sound_match_nothing(
        sounds: tuple[Memory, Path, Path], corpus_dir: Path, tmp_path: Path, source: str) -> None:
    """The memory holds digital silence and a 1 kHz tone as AI sounds: a silent or tone query of
    any length must still match nothing, nor must real unrelated sound at any 3 s offset."""
    memory, _, _ = sounds
    queries = []
    for start in (0.5, 1.7):
        q = tmp_path / f"q{start}.mp3"
        if source.startswith("lavfi:"):
            ffmpeg("-f", "lavfi", "-i", source[6:], "-t", "4", "-c:a", "libmp3lame", str(q))
        else:
            ffmpeg("-ss", str(start), "-i", str(corpus_dir / source), "-t", "3", "-vn", "-c:a", "libmp3lame",
                   "-b:a", "160k", str(q))
        queries.append(q)
    for q in queries:
        assert memory.match(fp(q)) == [], q.name


def test_silence_and_a_steady_tone_carry_no_information() -> None:
    t = np.arange(audio_hash.RATE * 3) / audio_hash.RATE
    silence = audio_hash.hash_samples(np.zeros_like(t))
    tone = audio_hash.hash_samples(0.5 * np.sin(2 * np.pi * 1000 * t))
    assert len(silence) > 100 and set(silence.tolist()) == {audio_hash.QUIET}
    assert int((tone != audio_hash.QUIET).sum()) < MIN_COMPARED  # too little to ever be compared


def test_the_stored_form_round_trips() -> None:
    words = np.array([0, 1, 0xFFFFFFFF, 123456789], dtype=np.uint32)
    assert audio_hash.decode(audio_hash.encode(words)).tolist() == words.tolist()
    with pytest.raises(ValueError):
        audio_hash.decode("AAA=")  # not whole words


def test_the_threshold_sits_between_derivatives_and_unrelated_sound() -> None:
    # bench/README.md: derivatives 0–8 %, Opus 32k 15 %; unrelated real sound from 24 % up.
    assert 0.15 < MAX_BER < 0.24


def test_decoys_that_outvote_an_original_do_not_hide_it() -> None:
    """Votes only pick what to verify: forty stored sounds that copy the query's high halves
    (more votes than the real original gets, each failing verification) must not push the
    original out of the lookup."""
    rng = np.random.default_rng(5)
    original_words = rng.integers(1, 2**32, 400, dtype=np.uint32)
    query = original_words[100:229].copy()
    flips = rng.random((len(query), 32)) < 0.08  # a transcode's bit errors
    query ^= (flips * (1 << np.arange(32, dtype=np.uint64))).sum(axis=1).astype(np.uint32)
    query[query == 0] = 1
    decoys = [(query & 0xFFFF0000) | rng.integers(1, 2**16, len(query), dtype=np.uint32) for _ in range(40)]
    index = AudioHashIndex([*decoys, original_words])
    hits = index.search(query.tolist())
    assert [h.original for h in hits] == [40]
    assert hits[0].original_range[0] == pytest.approx(100 * audio_hash.HOP_SECONDS)


def test_an_ai_videos_sound_is_known_from_the_video_itself(corpus_dir: Path, tmp_path: Path) -> None:
    """Memory holds the AI clip as it was tagged (a Sora MP4), not a WAV of its track: the
    soundtrack exported as an MP3, and real footage with that sound laid under it, are both
    derivatives; the same footage with its own sound is not."""
    ai_clip = corpus_dir / LONG_AI
    footage = corpus_dir / "d35_tiktok_human_video.mp4"
    memory = Memory([original(ai_clip)])
    assert fp(ai_clip).audio_hash  # the video's print carries its sound
    track = tmp_path / "score.mp3"
    ffmpeg("-ss", "3", "-i", str(ai_clip), "-t", "4", "-vn", "-c:a", "libmp3lame", "-b:a", "128k", str(track))
    [m] = memory.match(fp(track))
    assert m.how == "audio" and m.original.name == LONG_AI and "audio hash" in m.description
    assert m.original_range and m.original_range[0] == pytest.approx(3.0, abs=0.1)
    laid_under = tmp_path / "cut.mp4"
    ffmpeg("-i", str(footage), "-i", str(ai_clip), "-map", "0:v", "-map", "1:a", "-t", "8", "-c:v", "libx264",
           "-preset", "veryfast", "-c:a", "aac", str(laid_under))
    [m] = memory.match(fp(laid_under))
    assert m.how == "audio" and m.original.name == LONG_AI
    own_sound = tmp_path / "own.mp4"
    ffmpeg("-i", str(footage), "-t", "8", "-c:v", "libx264", "-preset", "veryfast", "-c:a", "aac",
           str(own_sound))
    assert memory.match(fp(own_sound)) == []
