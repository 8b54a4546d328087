"""Whole turns on real models: wake, endpoint, STT, skill, TTS."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime

import numpy as np
import pytest

from edge_runtime.audio.sources import ArraySource
from edge_runtime.clock import SystemClock
from edge_runtime.turn import run_turn
from tests.fakes.clock import FakeClock
from tests.harness import HubHarness
from tests.speech import Voices, join, silence

NOON = datetime(2026, 11, 24, 12, 5, tzinfo=UTC)


def request(voices: Voices, text: str, voice: str = "piper") -> np.ndarray:
    return join(silence(0.5), voices.say(voice, "Hey Jarvis."), silence(0.3), voices.say(voice, text), silence(1.0))


def turn(settings, engines, audio, clock=None, **kw):  # type: ignore[no-untyped-def]
    clock = clock or FakeClock(NOON)
    return asyncio.run(run_turn(settings, engines, clock, ArraySource(audio).blocks(), **kw))


@pytest.mark.parametrize("voice", ["piper", "espeak"])
def test_time_and_date(settings, engines, voices: Voices, voice: str) -> None:  # type: ignore[no-untyped-def]
    result = turn(settings, engines, request(voices, "What time is it?", voice))
    rec = result.record
    assert rec["wake"]["name"] == "hey_jarvis" and rec["wake"]["score"] >= 0.5
    assert rec["intent"] == "time" and rec["reply"] == "It's 12:05 PM."
    assert len(result.reply_audio) > 0.5 * result.reply_rate
    assert set(rec["timings_ms"]) >= {"stt_ms", "skill_ms", "tts_first_audio_ms", "endpoint_to_first_audio_ms"}
    date = turn(settings, engines, request(voices, "What's the date today?", voice)).record
    assert date["reply"] == "Today is Tuesday, November 24th, 2026."


def test_reply_audio_says_the_reply(settings, engines, voices: Voices) -> None:  # type: ignore[no-untyped-def]
    from edge_runtime.audio.convert import resample, to_float32

    result = turn(settings, engines, request(voices, "What time is it?"))
    heard = engines.stt.transcribe(resample(to_float32(result.reply_audio), result.reply_rate, 16000)).text
    assert re.sub(r"\W", "", heard.lower()).startswith("its1205")


def test_unknown_requests_get_a_clear_no(settings, engines, voices: Voices) -> None:  # type: ignore[no-untyped-def]
    rec = turn(settings, engines, request(voices, "Book me a flight to Paris.")).record
    # Nothing on the hub can book flights; an unlinked hub says why instead of guessing.
    assert rec["intent"] == "escalate" and rec["data"]["route"] == "cloud"
    assert rec["reply"].startswith("I'm not linked to the cloud")
    assert "flight" in rec["transcript"].lower()


def test_push_to_talk_skips_the_wake_word(settings, engines, voices: Voices) -> None:  # type: ignore[no-untyped-def]
    audio = join(silence(0.3), voices.piper("What time is it?"), silence(1.0))
    rec = turn(settings, engines, audio, use_wake=False).record
    assert rec["wake"] is None and rec["intent"] == "time"


def test_without_the_wake_word_the_hub_does_not_act(settings, engines, voices: Voices) -> None:  # type: ignore[no-untyped-def]
    audio = join(silence(0.3), voices.piper("Set a timer for ten minutes."), silence(1.0))
    rec = turn(settings, engines, audio).record
    assert rec["wake"] is None and rec["intent"] == "no-speech"
    assert rec["reply"] == "Sorry, I didn't catch that."


def test_timers_ring_and_stop_with_a_fake_clock(settings, engines, voices: Voices) -> None:  # type: ignore[no-untyped-def]
    clock = FakeClock(NOON)

    async def scenario() -> None:
        async with HubHarness(settings, engines, clock) as hub:
            await hub.feed(request(voices, "Set a timer for ten minutes."))
            assert hub.replies()[-1] == "Timer set for ten minutes."
            await clock.advance(4 * 60 + 30)
            await hub.feed(request(voices, "How much time is left?"))
            assert hub.replies()[-1] == "Five minutes and thirty seconds left."
            await clock.advance(5 * 60 + 30)  # it rings
            await hub.idle(3.0)
            alerts = hub.events("timer_alert")
            assert len(alerts) == 1
            await hub.feed(request(voices, "Stop."))
            assert hub.events("skill")[-1]["intent"] == "stop"
            assert hub.events("skill")[-1]["data"]["silenced_alerts"] == 1
            await clock.advance(60)
            assert len(hub.events("timer_alert")) == 1  # stop silenced the repeats
            await hub.feed(request(voices, "How much time is left?"))
            assert hub.replies()[-1] == "You have no timers running."

    asyncio.run(scenario())


def test_timer_alert_is_spoken_and_repeats_until_stopped(settings, engines, voices: Voices) -> None:  # type: ignore[no-untyped-def]
    clock = FakeClock(NOON)
    settings.timer_alert_repeats = 2

    async def scenario() -> None:
        async with HubHarness(settings, engines, clock) as hub:
            await hub.feed(request(voices, "Set a timer for two minutes."))
            start = len(hub.speaker.audio)
            await clock.advance(120)
            await hub.idle(3.0)
            await clock.advance(settings.timer_alert_interval_s)
            await hub.idle(3.0)
            assert len(hub.events("timer_alert")) == 2
            alert = hub.speaker.audio[start:].astype(np.float32) / 32768
            heard = engines.stt.transcribe(alert).text.lower()
            assert "timer is done" in heard

    asyncio.run(scenario())


def test_cancel_a_timer(settings, engines, voices: Voices) -> None:  # type: ignore[no-untyped-def]
    clock = FakeClock(NOON)

    async def scenario() -> None:
        async with HubHarness(settings, engines, clock) as hub:
            await hub.feed(request(voices, "Set a timer for one minute."))
            await hub.feed(request(voices, "Cancel the timer."))
            assert hub.replies()[-1] == "Cancelled your one minute timer."
            await clock.advance(120)
            await hub.idle(1.0)
            assert hub.events("timer_alert") == []

    asyncio.run(scenario())


def test_system_clock_turn(settings, engines, voices: Voices) -> None:  # type: ignore[no-untyped-def]
    rec = turn(settings, engines, request(voices, "What time is it?"), clock=SystemClock("UTC")).record
    assert re.fullmatch(r"It's \d{1,2}:\d\d [AP]M\.", rec["reply"])
