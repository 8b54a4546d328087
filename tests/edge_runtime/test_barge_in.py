"""Barge-in on a real audio stream, paced in real time: detection to silence <= 100 ms."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import numpy as np
import pytest

from edge_runtime.frames import Interrupt, Reply, TTSAudio
from edge_runtime.pipeline.output import PlaybackOutput
from edge_runtime.pipeline.processor import Pipeline
from edge_runtime.pipeline.tts import TtsProcessor
from edge_runtime.trace import Tracer
from tests.fakes.clock import FakeClock
from tests.harness import HubHarness
from tests.speech import Voices, join, silence

RATE = 16000
MAX_SILENCE_LAG_S = 0.100


def _silence_lag(audio: np.ndarray, t_detect: float) -> float:
    """Seconds from detection until 50 ms of silence begins in the speaker's timeline."""
    start = int(t_detect * RATE)
    window = int(0.05 * RATE)
    for i in range(start, len(audio) - window):
        if not np.any(audio[i : i + window]):
            return (i - start) / RATE
    return float("inf")


async def _barge_in(settings, engines, interruption: np.ndarray):  # type: ignore[no-untyped-def]
    clock = FakeClock(datetime(2026, 11, 24, 12, 5, tzinfo=UTC))
    async with HubHarness(settings, engines, clock, realtime=True) as hub:
        first = join(
            silence(0.5), hub_voice(engines, "Hey Jarvis."), silence(0.3), hub_voice(engines, "What's the date today?")
        )
        # The reply ("Today is Tuesday, ...", ~3 s) starts ~0.4 s after the request ends;
        # the user talks over it 1.2 s later.
        await hub.feed(join(first, silence(1.2), interruption), tail_s=3.0)
        return hub


def hub_voice(engines, text: str) -> np.ndarray:  # type: ignore[no-untyped-def]
    from edge_runtime.audio.convert import resample

    return resample(engines.tts.synthesize_all(text), engines.tts.sample_rate, RATE) * 0.8


@pytest.mark.parametrize("voice", ["piper", "espeak"])
def test_wake_word_during_playback_stops_it(settings, engines, voices: Voices, voice: str) -> None:  # type: ignore[no-untyped-def]
    settings.barge_in_on_speech = False  # wake only: speech barge-in would fire first
    interruption = join(voices.say(voice, "Hey Jarvis."), silence(0.3), voices.say(voice, "What time is it?"))
    hub = asyncio.run(_barge_in(settings, engines, interruption))
    interrupts = hub.events("interrupt")
    assert [i["reason"] for i in interrupts] == ["wake"]
    speaker = hub.speaker.audio
    t_detect = interrupts[0]["t"]
    first_audio = hub.tracer.all("first_audio")[0]
    assert first_audio is not None and np.any(speaker[: int(t_detect * RATE)])  # it was talking
    lag = _silence_lag(speaker, t_detect)
    assert lag <= MAX_SILENCE_LAG_S, f"{lag * 1000:.0f} ms of reply audio after detection"
    # The date reply was cut short, and the new request was answered.
    assert [m["intent"] for m in hub.events("skill")] == ["date", "time"]
    assert hub.events("playback_stop")[0]["reason"] == "wake"


def test_speech_during_playback_stops_it_and_is_heard(settings, engines, voices: Voices) -> None:  # type: ignore[no-untyped-def]
    hub = asyncio.run(_barge_in(settings, engines, voices.espeak("What time is it?")))
    interrupts = hub.events("interrupt")
    assert [i["reason"] for i in interrupts] == ["speech"]
    lag = _silence_lag(hub.speaker.audio, interrupts[0]["t"])
    assert lag <= MAX_SILENCE_LAG_S
    skills = hub.events("skill")
    assert [s["intent"] for s in skills] == ["date", "time"], [s.get("reply") for s in skills]
    # The barged-in utterance keeps stream time: its speech starts in the pre-roll before the interrupt,
    # not at 0 (the pre-roll was once replayed as if it began the stream).
    starts = [m["t"] for m in hub.events("speech_start")]
    assert len(starts) == 2 and interrupts[0]["t"] - 0.7 <= starts[1] <= interrupts[0]["t"], (starts, interrupts)


def test_interrupt_cancels_the_reply_being_synthesized(engines) -> None:  # type: ignore[no-untyped-def]
    """Eight sentences: after the first is heard, an Interrupt stops the other seven."""

    async def scenario() -> tuple[int, int]:
        tracer = Tracer()
        tts = TtsProcessor(engines.tts, tracer, output_rate=RATE)
        out = PlaybackOutput(RATE, tracer)
        pipeline = Pipeline([tts, out])
        await pipeline.start()
        sentences = " ".join(f"This is sentence number {n}." for n in range(1, 9))
        await pipeline.push(Reply(sentences))
        while not out.buffered_samples:
            await asyncio.sleep(0.001)
        await pipeline.push(Interrupt(reason="test"))
        after = out.buffered_samples
        await asyncio.sleep(1.0)
        await pipeline.wait_idle()
        audio_frames = sum(1 for m in tracer.marks if m.event == "tts_first_audio")
        await pipeline.stop()
        return after, audio_frames + out.buffered_samples

    buffered_after_interrupt, leftover = asyncio.run(scenario())
    assert buffered_after_interrupt == 0
    assert leftover == 1  # one first-audio mark, nothing buffered since


def test_tts_audio_is_resampled_for_the_sink(engines) -> None:  # type: ignore[no-untyped-def]
    async def scenario(rate: int) -> list[TTSAudio]:
        tracer = Tracer()
        out = PlaybackOutput(rate, tracer, keep_replies=True)
        pipeline = Pipeline([TtsProcessor(engines.tts, tracer, output_rate=rate), out])
        await pipeline.start()
        await pipeline.push(Reply("Hello there."))
        await pipeline.wait_idle()
        await pipeline.stop()
        return [TTSAudio(p, rate) for p in out.replies]

    native = sum(len(a.pcm) for a in asyncio.run(scenario(engines.tts.sample_rate)))
    for rate in (16000, 48000):
        got = sum(len(a.pcm) for a in asyncio.run(scenario(rate)))
        # Piper varies phoneme durations run to run; a wrong rate would be off by 2-3x.
        assert abs(got / rate - native / engines.tts.sample_rate) < 0.15
