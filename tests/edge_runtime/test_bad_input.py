"""Bad audio gets a clear error with a stable code, or is converted; never a crash."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from edge_runtime.audio.sources import PcmSource, WavSource
from edge_runtime.errors import AudioFormatError
from edge_runtime.turn import run_turn
from tests.fakes.clock import FakeClock
from tests.speech import Voices, join, silence, write_wav


def request(voices: Voices) -> np.ndarray:
    return join(silence(0.5), voices.piper("Hey Jarvis."), silence(0.3), voices.piper("What time is it?"), silence(1.0))


def listen(settings, engines, path: Path) -> dict:  # type: ignore[no-untyped-def]
    clock = FakeClock(datetime(2026, 11, 24, 9, 30, tzinfo=UTC))
    return asyncio.run(run_turn(settings, engines, clock, WavSource(path).blocks())).record


@pytest.mark.parametrize(("rate", "channels"), [(8000, 1), (22050, 1), (44100, 2), (48000, 2)])
def test_other_rates_and_channel_counts_are_resampled(settings, engines, voices, tmp_path, rate, channels) -> None:  # type: ignore[no-untyped-def]
    from edge_runtime.audio.convert import resample

    audio = resample(request(voices), 16000, rate)
    rec = listen(settings, engines, write_wav(tmp_path / "in.wav", audio, rate, channels))
    assert rec["reply"] == "It's 9:30 AM.", rec


def test_float_and_24_bit_wavs(settings, engines, voices, tmp_path) -> None:  # type: ignore[no-untyped-def]
    for subtype in ("FLOAT", "PCM_24"):
        path = tmp_path / f"{subtype}.wav"
        sf.write(str(path), request(voices), 16000, subtype=subtype)
        assert listen(settings, engines, path)["intent"] == "time"


def test_not_a_wav_is_rejected_clearly(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "notes.wav"
    path.write_text("these are my shopping notes, not audio\n" * 20)
    with pytest.raises(AudioFormatError) as exc:
        WavSource(path)
    assert exc.value.code == "AUDIO_INVALID" and "notes.wav" in exc.value.message
    with pytest.raises(AudioFormatError) as missing:
        WavSource(tmp_path / "nope.wav")
    assert missing.value.code == "AUDIO_NOT_FOUND"


def test_header_only_wav_is_rejected_clearly(voices, tmp_path) -> None:  # type: ignore[no-untyped-def]
    whole = write_wav(tmp_path / "whole.wav", request(voices)).read_bytes()
    path = tmp_path / "header.wav"
    path.write_bytes(whole[:30])
    with pytest.raises(AudioFormatError):
        WavSource(path)


@pytest.mark.parametrize("kind", ["silence", "empty-wav", "zero-bytes"])
def test_silence_or_empty_gets_a_spoken_didnt_catch_that(settings, engines, tmp_path, kind) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / f"{kind}.wav"
    if kind == "silence":
        write_wav(path, silence(3.0))
    elif kind == "empty-wav":
        write_wav(path, np.zeros(0, np.float32))
    else:
        path.write_bytes(b"")
    clock = FakeClock(datetime(2026, 11, 24, 9, 30, tzinfo=UTC))
    result = asyncio.run(run_turn(settings, engines, clock, WavSource(path).blocks()))
    assert result.record["reply"] == "Sorry, I didn't catch that."
    assert len(result.reply_audio) > 0.5 * result.reply_rate  # it is spoken


def test_truncated_wav_answers_from_what_is_there(settings, engines, voices, tmp_path) -> None:  # type: ignore[no-untyped-def]
    whole = write_wav(tmp_path / "whole.wav", request(voices)).read_bytes()
    cut = tmp_path / "cut.wav"
    cut.write_bytes(whole[: int(len(whole) * 0.75)])  # header still claims the full length
    rec = listen(settings, engines, cut)
    assert rec["wake"] is not None and rec["reply"]


def test_raw_pcm_with_a_ragged_tail(voices) -> None:  # type: ignore[no-untyped-def]
    import io

    pcm = (request(voices) * 32767).astype("<i2").tobytes() + b"\x01"  # an odd trailing byte
    blocks = list(PcmSource(io.BytesIO(pcm)).iter_blocks())
    assert sum(len(b) for b in blocks) >= len(pcm) // 2 - 1
    assert all(len(b) == 1280 and b.dtype == np.int16 for b in blocks)
