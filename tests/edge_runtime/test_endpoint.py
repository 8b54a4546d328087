"""Endpointing on real VAD: trailing silence, maximum length, no speech, speculation."""

from __future__ import annotations

import asyncio

import numpy as np

from edge_runtime.frames import AudioIn, EndOfStream, Frame, StartListening, Utterance, WakeDetected
from edge_runtime.pipeline.endpoint import Endpointer
from edge_runtime.pipeline.processor import FrameProcessor, Pipeline
from edge_runtime.trace import Tracer
from tests.speech import Voices, join, silence
from tests.turn_sets import trim


class Collect(FrameProcessor):
    def __init__(self) -> None:
        super().__init__()
        self.frames: list[Frame] = []

    async def process_frame(self, frame, direction) -> None:  # type: ignore[no-untyped-def]
        self.frames.append(frame)


def endpoint(engines, audio: np.ndarray, hold: bool = False, **kw) -> list[Utterance]:  # type: ignore[no-untyped-def]
    async def run() -> list[Utterance]:
        sink = Collect()
        pipeline = Pipeline([Endpointer(engines.vad, Tracer(), **kw), sink])
        await pipeline.push(StartListening(hold=hold))
        pcm = audio.astype(np.float32)  # the pipeline's one sample format
        for i in range(0, len(pcm), 1280):
            await pipeline.push(AudioIn(pcm[i : i + 1280], t=i / 16000))
        await pipeline.push(EndOfStream())
        return [f for f in sink.frames if isinstance(f, Utterance)]

    return asyncio.run(run())


def test_cut_after_trailing_silence_with_a_speculative_first(engines, voices: Voices) -> None:  # type: ignore[no-untyped-def]
    speech = voices.piper("Set a timer for ten minutes.")
    utts = endpoint(engines, join(silence(0.5), speech, silence(2.0)), trailing_silence_ms=400)
    spec = [u for u in utts if u.reason == "speculative"]
    final = [u for u in utts if u.final]
    assert len(final) == 1 and final[0].reason == "silence"
    assert spec and np.array_equal(spec[-1].audio, final[0].audio)  # the speculation is reusable
    # One VAD frame into the same pause, an early cut of the same speech: STT may start on it.
    early = [u for u in utts if u.reason == "early" and u.speech_end_t == final[0].speech_end_t]
    assert len(early) == 1 and not early[0].final
    order = [id(u) for u in utts]
    assert order.index(id(early[0])) < order.index(id(spec[-1]))
    assert len(early[0].audio) == len(final[0].audio) - 2 * 512  # the pause's first frame, not its third
    assert np.array_equal(early[0].audio, final[0].audio[: len(early[0].audio)])
    assert 0.5 < final[0].speech_end_t < 0.5 + len(speech) / 16000 + 0.1
    assert len(final[0].audio) / 16000 < len(speech) / 16000 + 0.6  # trailing silence trimmed


def test_no_early_cut_without_speculation(engines, voices: Voices) -> None:  # type: ignore[no-untyped-def]
    speech = voices.piper("Set a timer for ten minutes.")
    utts = endpoint(engines, join(silence(0.5), speech, silence(2.0)), speculative=False)
    assert [u.reason for u in utts] == ["silence"]


def test_a_short_pause_does_not_end_the_utterance(engines, voices: Voices) -> None:  # type: ignore[no-untyped-def]
    audio = join(voices.piper("Set a timer"), silence(0.2), voices.piper("for ten minutes."), silence(1.5))
    finals = [u for u in endpoint(engines, audio, trailing_silence_ms=600) if u.final]
    assert len(finals) == 1
    assert "ten minutes" in engines.stt.transcribe(finals[0].audio).text.lower().replace("10", "ten")


def test_maximum_utterance_length(engines, voices: Voices) -> None:  # type: ignore[no-untyped-def]
    long_speech = join(*[voices.piper("This goes on and on without a pause.")] * 6)
    finals = [u for u in endpoint(engines, long_speech, max_utterance_s=3.0) if u.final]
    assert finals[0].reason == "max-length"
    assert abs(len(finals[0].audio) / 16000 - 3.0) < 0.5


def test_a_held_push_to_talk_turn_outlasts_the_hands_free_cap(engines, voices: Voices) -> None:  # type: ignore[no-untyped-def]
    long_speech = join(*[voices.piper("This goes on and on without a pause.")] * 6)
    assert len(long_speech) / 16000 > 9.0
    finals = [u for u in endpoint(engines, long_speech, hold=True, max_utterance_s=3.0, max_held_s=6.0) if u.final]
    assert finals[0].reason == "max-length"
    assert abs(len(finals[0].audio) / 16000 - 6.0) < 0.5  # the held cap, not the hands-free one


def test_no_speech_times_out(engines) -> None:  # type: ignore[no-untyped-def]
    finals = [u for u in endpoint(engines, silence(8.0), no_speech_timeout_s=2.0) if u.final]
    assert [u.reason for u in finals] == ["no-speech"] and len(finals[0].audio) == 0


def test_end_of_stream_mid_speech_keeps_the_audio(engines, voices: Voices) -> None:  # type: ignore[no-untyped-def]
    finals = [u for u in endpoint(engines, voices.piper("What time is it")) if u.final]
    assert [u.reason for u in finals] == ["end-of-stream"] and len(finals[0].audio) > 8000


def test_a_pre_roll_keeps_its_place_in_the_stream(engines, voices: Voices) -> None:  # type: ignore[no-untyped-def]
    """Barge-in hands the endpointer the last 640 ms as pre-roll: its timestamps are stream time, not 0."""
    speech = voices.piper("What time is it?").astype(np.float32)
    preroll, rest = speech[:10240], speech[10240:]

    async def run() -> list[Utterance]:
        sink = Collect()
        pipeline = Pipeline([Endpointer(engines.vad, Tracer(), trailing_silence_ms=400), sink])
        await pipeline.push(StartListening(preroll=preroll, preroll_t=41.0))
        tail = np.concatenate([rest, np.zeros(32000, dtype=np.float32)])
        for i in range(0, len(tail), 1280):
            await pipeline.push(AudioIn(tail[i : i + 1280], t=41.64 + i / 16000))
        await pipeline.push(EndOfStream())
        return [f for f in sink.frames if isinstance(f, Utterance) and f.final]

    (utt,) = asyncio.run(run())
    assert 41.0 <= utt.start_t < 41.64
    assert 41.64 < utt.speech_end_t < 41.0 + len(speech) / 16000 + 0.1


def woken(engines, audio: np.ndarray, at_s: float) -> list[Utterance]:  # type: ignore[no-untyped-def]
    """The gate opens at `at_s` with the audio before it as its recent audio, as WakeGate sends it."""

    async def run() -> list[Utterance]:
        sink = Collect()
        pipeline = Pipeline([Endpointer(engines.vad, Tracer()), sink])
        pcm = audio.astype(np.float32)
        cut = round(at_s * 16000 / 1280) * 1280
        await pipeline.push(WakeDetected("hey_jarvis", 0.9, cut / 16000, recent=pcm[:cut]))
        for i in range(cut, len(pcm), 1280):
            await pipeline.push(AudioIn(pcm[i : i + 1280], t=i / 16000))
        await pipeline.push(EndOfStream())
        return [f for f in sink.frames if isinstance(f, Utterance) and f.final]

    return asyncio.run(run())


def test_speech_running_through_the_wake_word_is_kept_from_its_onset(engines, voices: Voices) -> None:  # type: ignore[no-untyped-def]
    wake, request = trim(voices.piper("Hey Jarvis")), trim(voices.piper("turn on the kitchen light"))
    audio = join(silence(0.5), wake, silence(0.05), request, silence(1.0))
    # Fired a third into the request: its first word is before the gate opened.
    (utt,) = woken(engines, audio, at_s=0.55 + (len(wake) + len(request) / 3) / 16000)
    assert utt.wake == "hey_jarvis" and utt.start_t < 0.5 + len(wake) / 16000 / 2


def test_a_pause_after_the_wake_phrase_starts_the_turn_at_the_request(engines, voices: Voices) -> None:  # type: ignore[no-untyped-def]
    wake, request = trim(voices.piper("Hey Jarvis")), trim(voices.piper("turn on the kitchen light"))
    audio = join(silence(0.5), wake, silence(0.6), request, silence(1.0))
    (utt,) = woken(engines, audio, at_s=0.5 + len(wake) / 16000)  # fired as the phrase ended
    assert utt.wake is None and utt.start_t > 0.5 + len(wake) / 16000
