"""WebRTC voice sessions against a real aiortc peer in this process, with the real models.

Each scenario checks, at its end, that no task of ours is left running: sessions clean up after
every kind of ending (hub closes, peer closes, peer never connects, bad offer).
"""

from __future__ import annotations

import asyncio
import re
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pytest

from edge_runtime.app_events import TURN_EVENTS
from edge_runtime.clock import Clock, SystemClock
from edge_runtime.devices.hub import DeviceEvent
from edge_runtime.pipeline.gate import WakeGate
from edge_runtime.pipeline.stt import SttProcessor
from edge_runtime.webrtc import HubParts, SessionOptions, WebRtcConfig, WebRtcError, WebRtcSessions
from tests.fakes.clock import FakeClock
from tests.speech import Voices, join, silence
from tests.webrtc_peer import Phone

Scenario = Callable[[WebRtcSessions], Awaitable[None]]


def run(
    settings,
    engines,
    registry,
    scenario: Scenario,
    *,
    clock: Clock | None = None,  # type: ignore[no-untyped-def]
    parts: Any = None,
    **config: Any,
) -> None:
    async def main() -> None:
        before = asyncio.all_tasks()
        sessions = WebRtcSessions(
            settings, engines, clock or SystemClock(), registry=registry, parts=parts, config=WebRtcConfig(**config)
        )
        try:
            await scenario(sessions)
        finally:
            await asyncio.gather(*(p.close() for p in list(Phone.live)))
            await sessions.close_all()
        assert len(sessions) == 0
        await asyncio.sleep(0.05)
        leaked = [t.get_name() for t in asyncio.all_tasks() - before if t is not asyncio.current_task()]
        assert leaked == [], f"tasks left running: {leaked}"

    asyncio.run(main())


def words(text: str) -> str:
    return re.sub(r"[^a-z ]", "", text.lower()).strip()


@pytest.fixture(scope="module")
def request_audio(voices: Voices) -> np.ndarray:
    return join(silence(0.3), voices.piper("Hey Jarvis."), silence(0.3), voices.piper("What time is it?"), silence(0.2))


def test_voice_turn_over_webrtc(settings, engines, registry, request_audio) -> None:  # type: ignore[no-untyped-def]
    """Wake word, speech in at 48 kHz stereo Opus; transcript, reply and reply audio come back."""

    async def scenario(sessions: WebRtcSessions) -> None:
        phone = Phone()
        sid = await phone.connect(sessions)
        assert (await phone.wait_for(lambda e: e["type"] == "session"))["session_id"] == sid  # data channel: may trail
        phone.mic.play(request_audio)
        transcript = await phone.wait_for(lambda e: e["type"] == "transcript")
        assert words(transcript["text"]) == "what time is it"
        reply = await phone.wait_for(lambda e: e["type"] == "reply")
        assert reply["intent"] == "time" and reply["text"].startswith("It's")
        asked = time.perf_counter()
        await phone.wait_for(lambda e: e == {"type": "state", "state": "idle", "reason": "done"})
        states = [e["state"] for e in phone.of("state")]
        assert states == ["listening", "hearing", "thinking", "speaking", "idle"], phone.of("state")
        turn = [e for e in phone.events if e["type"] not in ("session", "pong")]
        for e in turn:  # the same models the LAN API's /v1/events sends (edge_runtime.app_events)
            TURN_EVENTS.validate_python(e)
        order = [e["type"] for e in turn if e["type"] in ("transcript", "sentence", "route", "reply")]
        assert order[0] == "transcript" and order[-2:] == ["route", "reply"] and "sentence" in order, order
        spoken = " ".join(e["text"] for e in phone.of("sentence"))
        assert spoken == reply["text"], (spoken, reply["text"])  # each sentence went out before the whole reply
        await asyncio.sleep(0.2)  # the last frames are still in flight
        voiced = phone.loud_frames(since=asked)
        assert len(voiced) >= 25, f"only {len(voiced)} loud 20 ms frames of reply audio arrived"
        session = sessions.get(sid)
        assert session.track.voiced_frames >= len(voiced) * 0.9
        assert session.mic is not None and session.mic.blocks > 30  # ~80 ms blocks of 16 kHz mic audio
        await phone.close()

    run(settings, engines, registry, scenario)


def test_push_to_talk_opens_the_turn_without_the_wake_word(settings, engines, registry, voices) -> None:  # type: ignore[no-untyped-def]
    async def scenario(sessions: WebRtcSessions) -> None:
        phone = Phone()
        sid = await phone.connect(sessions)
        phone.send({"type": "ptt", "pressed": True})
        await phone.wait_for(lambda e: e.get("reason") == "ptt")
        # A second's pause while the button is held (more than the 400 ms that ends a spoken turn).
        phone.mic.play(join(voices.piper("What time"), silence(1.0), voices.piper("is it?"), silence(0.2)))
        while phone.mic.playing:
            await asyncio.sleep(0.02)
        await asyncio.sleep(0.1)
        phone.send({"type": "ptt", "pressed": False})
        transcript = await phone.wait_for(lambda e: e["type"] == "transcript", timeout=5)
        assert words(transcript["text"]) == "what time is it"
        assert (await phone.wait_for(lambda e: e["type"] == "reply"))["intent"] == "time"
        endpoint = sessions.get(sid).hub.tracer.last("endpoint")
        assert endpoint is not None and endpoint.data["reason"] == "end-of-stream"  # the release cut it
        assert not [e for e in phone.of("state") if e["state"] == "listening" and e.get("reason") != "ptt"]
        await phone.close()

    run(settings, engines, registry, scenario)


def test_chat_ping_and_device_events(settings, engines, registry) -> None:  # type: ignore[no-untyped-def]
    """Typed text gets a text reply and a spoken one; ping echoes the app's own timestamp."""

    async def devices() -> AsyncIterator[DeviceEvent]:
        yield DeviceEvent("state", "kitchen_light", {"values": {"state": "on"}})
        await asyncio.Event().wait()  # a live source: ends only when the session does

    def parts(options: SessionOptions) -> HubParts:
        assert options.user_name == "Ada"
        return HubParts(device_events=devices())

    async def scenario(sessions: WebRtcSessions) -> None:
        phone = Phone()
        await phone.connect(sessions, options=SessionOptions(user_name="Ada"))
        device = await phone.wait_for(lambda e: e["type"] == "device")
        assert device == {"type": "device", "event": "state", "device": "kitchen_light", "values": {"state": "on"}}
        for stamp in (1234567, 0.25, "t-1"):
            phone.send({"type": "ping", "t": stamp})
            pong = await phone.wait_for(lambda e, s=stamp: e["type"] == "pong" and e["t"] == s)
            assert type(pong["t"]) is type(stamp) and isinstance(pong["server_t"], float)
        asked = time.perf_counter()
        phone.send({"type": "chat", "text": "what time is it"})
        reply = await phone.wait_for(lambda e: e["type"] == "reply")
        assert reply["intent"] == "time"
        await phone.wait_for(lambda e: e == {"type": "state", "state": "idle", "reason": "done"})
        await asyncio.sleep(0.2)
        assert len(phone.loud_frames(since=asked)) >= 25  # ... and spoken too
        assert not phone.of("transcript")  # typed text is not a transcript
        await phone.close()

    run(settings, engines, registry, scenario, parts=parts)


def test_bad_offers_are_coded_errors_and_leak_nothing(settings, engines, registry) -> None:  # type: ignore[no-untyped-def]
    async def scenario(sessions: WebRtcSessions) -> None:
        phone = Phone()
        good = await phone.offer()
        no_ice = "\r\n".join(line for line in good.split("\r\n") if not line.startswith("a=ice-"))
        bad = [
            ("", "offer"),
            ("hello", "offer"),
            ("v=0\r\nm=audio x y\r\n", "offer"),
            (good, "answer"),
            (re.sub(r"m=audio \d+", "m=audio nine", good), "offer"),
            (no_ice, "offer"),
        ]
        for sdp, kind in bad:
            with pytest.raises(WebRtcError) as caught:
                await sessions.answer(sdp, kind)
            assert caught.value.code == "WEBRTC_BAD_SDP", (sdp[:40], caught.value)
        assert len(sessions) == 0
        await phone.close()

        # The limit: an answered offer counts until it connects, or its connect timeout reclaims it.
        sid = (await sessions.answer(good, "offer")).session_id
        with pytest.raises(WebRtcError) as caught:
            await sessions.answer(good, "offer")
        assert caught.value.code == "WEBRTC_TOO_MANY_SESSIONS"
        session = sessions.get(sid)
        await asyncio.wait_for(session.wait_closed(), 5)
        assert session.close_reason == "connect-timeout" and session.pc.connectionState == "closed"
        assert len(sessions) == 0
        with pytest.raises(WebRtcError) as caught:
            await sessions.close(sid)
        assert caught.value.code == "WEBRTC_UNKNOWN_SESSION"

    run(settings, engines, registry, scenario, max_sessions=1, connect_timeout_s=1.0)


def test_bad_messages_get_coded_errors(settings, engines, registry) -> None:  # type: ignore[no-untyped-def]
    async def scenario(sessions: WebRtcSessions) -> None:
        phone = Phone()
        await phone.connect(sessions)
        cases = [
            ("not json", "WEBRTC_BAD_MESSAGE"),
            ("[1, 2]", "WEBRTC_BAD_MESSAGE"),
            ('{"type": "dance"}', "WEBRTC_UNKNOWN_MESSAGE"),
            ('{"type": "chat"}', "WEBRTC_BAD_MESSAGE"),
            ('{"type": "ptt", "pressed": "maybe"}', "WEBRTC_BAD_MESSAGE"),
            ('{"type": "chat", "text": "' + "x" * 5000 + '"}', "WEBRTC_MESSAGE_TOO_LARGE"),
            ("[" * 1500 + "]" * 1500, "WEBRTC_BAD_MESSAGE"),
        ]
        for raw, _ in cases:
            phone.send(raw)
        phone.channel.send(b"\x00\x01")
        await phone.wait_for(lambda e: len(phone.of("error")) >= len(cases) + 1)
        codes = [e["code"] for e in phone.of("error")]
        assert codes == [code for _, code in cases] + ["WEBRTC_BAD_MESSAGE"]
        assert all(e["message"] for e in phone.of("error"))
        phone.send({"type": "ping", "t": 7})
        await phone.wait_for(lambda e: e["type"] == "pong" and e["t"] == 7)  # the session lives on
        await phone.close()

    run(settings, engines, registry, scenario)


def test_a_message_flood_is_dropped_not_queued_and_audio_keeps_time(settings, engines, registry) -> None:  # type: ignore[no-untyped-def]
    """3,000 pings at once (aiortc's SCTP costs ~1 ms a message for both peers in this one process,
    so 10,000 is left to bench/webrtc.py): bounded inbox, drops counted, the reply clock on time."""
    flood = 3_000

    async def scenario(sessions: WebRtcSessions) -> None:
        phone = Phone()
        session = sessions.get(await phone.connect(sessions))
        await asyncio.sleep(0.3)
        frames0, started = session.track.frames, time.perf_counter()
        for i in range(flood):
            phone.send({"type": "ping", "t": i})
        deepest = 0
        while session.stats["messages"] < flood and time.perf_counter() - started < 20:
            deepest = max(deepest, session._inbox.qsize())
            await asyncio.sleep(0.005)
        elapsed = time.perf_counter() - started
        assert session.stats["messages"] == flood
        assert deepest <= sessions.config.message_queue
        limit = sessions.config.message_burst + sessions.config.messages_per_s * elapsed
        assert flood - session.stats["dropped"] <= limit + 1, session.stats  # admitted: the token bucket's share
        await asyncio.sleep(0.2)
        errors = phone.of("error")
        assert {e["code"] for e in errors} == {"WEBRTC_RATE_LIMITED"} and len(errors) <= elapsed + 1  # 1/s at most
        assert errors[-1]["dropped"] > 0
        assert len(phone.of("pong")) == flood - session.stats["dropped"]  # every admitted ping was answered
        # The reply clock kept real time through it (aiortc's sender pulls our track).
        assert session.track.frames - frames0 >= 0.7 * elapsed / 0.020, (session.track.frames - frames0, elapsed)
        await asyncio.sleep(1.0)  # the bucket refills; the mic still flows
        assert session.mic is not None
        blocks = session.mic.blocks
        phone.send({"type": "ping", "t": "after"})
        await phone.wait_for(lambda e: e["type"] == "pong" and e["t"] == "after")
        await asyncio.sleep(0.5)
        assert session.mic.blocks - blocks >= 4
        await phone.close()

    run(settings, engines, registry, scenario)


def test_a_client_that_keeps_flooding_is_hung_up_on(settings, engines, registry) -> None:  # type: ignore[no-untyped-def]
    async def scenario(sessions: WebRtcSessions) -> None:
        phone = Phone()
        session_id = await phone.connect(sessions)
        for i in range(600):
            phone.send({"type": "ping", "t": i})
        closed = await phone.wait_for(lambda e: e.get("code") == "WEBRTC_FLOODED", 20)
        assert closed["type"] == "error"
        await asyncio.wait_for(sessions.wait_closed(session_id), 10)
        assert session_id not in sessions  # the session, its tracks and tasks are gone

    run(settings, engines, registry, scenario, max_dropped_messages=300)


def test_two_sessions_keep_their_own_conversation_and_timers(settings, engines, registry) -> None:  # type: ignore[no-untyped-def]
    clock = FakeClock(datetime(2026, 11, 24, 12, 5, tzinfo=UTC))

    async def ask(phone: Phone, text: str) -> dict[str, Any]:
        n = len(phone.of("reply"))
        phone.send({"type": "chat", "text": text})
        await phone.wait_for(lambda e: len(phone.of("reply")) > n)
        return phone.of("reply")[n]

    async def scenario(sessions: WebRtcSessions) -> None:
        a, b = Phone(), Phone()
        sid_a, sid_b = await asyncio.gather(a.connect(sessions), b.connect(sessions))
        assert sid_a != sid_b and len(sessions) == 2
        assert (await ask(a, "set a timer for ten minutes"))["intent"].startswith("timer")
        assert (await ask(b, "how much time is left on the timer"))["text"] == "You have no timers running."
        assert (await ask(a, "how much time is left on the timer"))["text"] == "Ten minutes left."
        hub_a, hub_b = sessions.get(sid_a).hub, sessions.get(sid_b).hub
        said_a = [text for _, text in hub_a.responder.conversation.history]
        said_b = [text for _, text in hub_b.responder.conversation.history]
        assert "set a timer for ten minutes" in said_a and "set a timer for ten minutes" not in said_b
        assert hub_a.responder.conversation.id == sid_a
        gate_a, gate_b = (next(p for p in h.pipeline.processors if isinstance(p, WakeGate)) for h in (hub_a, hub_b))
        assert gate_a.wake is not gate_b.wake and engines.wake not in (gate_a.wake, gate_b.wake)  # own state
        stt_a, stt_b = (next(p for p in h.pipeline.processors if isinstance(p, SttProcessor)) for h in (hub_a, hub_b))
        assert stt_a.stt is stt_b.stt is engines.stt  # the heavy model is shared
        await clock.advance(601)
        ring = await a.wait_for(lambda e: e["type"] == "timer")
        assert ring["event"] == "ringing" and ring["repeat"] == 0
        assert not b.of("timer")
        await asyncio.gather(a.close(), b.close())

    run(settings, engines, registry, scenario, clock=clock)


def test_the_app_vanishing_mid_turn_leaves_nothing_behind(settings, engines, registry, request_audio) -> None:  # type: ignore[no-untyped-def]
    async def scenario(sessions: WebRtcSessions) -> None:
        phone = Phone()
        session = sessions.get(await phone.connect(sessions))
        phone.mic.play(request_audio)
        await phone.wait_for(lambda e: e.get("state") == "thinking")  # STT running, reply on its way
        await phone.close()
        await asyncio.wait_for(session.wait_closed(), 10)
        assert session.close_reason in {"peer-closed", "track-ended", "peer-failed"}, session.close_reason
        assert session.pc.connectionState == "closed" and session.track.readyState == "ended"
        assert len(sessions) == 0

    run(settings, engines, registry, scenario)


def test_interrupt_and_speech_barge_in_stop_the_reply(settings, engines, registry, voices) -> None:  # type: ignore[no-untyped-def]
    async def scenario(sessions: WebRtcSessions) -> None:
        phone = Phone()
        session = sessions.get(await phone.connect(sessions))
        long = "what's the date today"
        for how in ("interrupt", "speech"):
            n = len(phone.events)
            phone.send({"type": "chat", "text": long})
            await phone.wait_for(lambda e: e.get("state") == "speaking", after=n)
            await asyncio.sleep(0.6)
            if how == "interrupt":
                phone.send({"type": "interrupt"})
            else:
                phone.mic.play(voices.piper("What time is it?"))
            stop = await phone.wait_for(lambda e: e.get("state") == "interrupted", after=n)
            assert stop["reason"] == ("client" if how == "interrupt" else "speech")
            cut = time.perf_counter()
            voiced = session.track.voiced_frames
            await asyncio.sleep(0.3)
            assert session.track.voiced_frames == voiced  # nothing more was played out ...
            assert not phone.loud_frames(since=cut + 0.15)  # ... or heard, once in-flight frames landed
        # The speech that barged in was heard and answered.
        assert (await phone.wait_for(lambda e: e["type"] == "reply" and e["intent"] == "time"))["text"]
        await phone.close()

    run(settings, engines, registry, scenario)


def test_tts_is_safe_from_several_sessions_at_once(voices: Voices) -> None:
    """Two threads synthesizing with one Piper voice get exactly what each would get alone."""
    texts = ["Turn on the kitchen light. Then the hallway.", "What time is it? It is late."]
    alone = [voices.tts.synthesize_all(t) for t in texts]
    results: list[np.ndarray | None] = [None, None]

    def speak(i: int) -> None:
        results[i] = voices.tts.synthesize_all(texts[i])

    threads = [threading.Thread(target=speak, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for got, want in zip(results, alone, strict=True):
        assert got is not None and np.array_equal(got, want)
