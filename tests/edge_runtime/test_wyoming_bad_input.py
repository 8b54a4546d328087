"""What a careless or hostile client gets from the hub's Wyoming server: a clear `error` event with a
stable code, or a clean close; never a crash, a hang or a leak, and the next client is served."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from wyoming.asr import Transcribe
from wyoming.audio import AudioChunk, AudioStart
from wyoming.client import AsyncTcpClient
from wyoming.event import Event
from wyoming.info import Describe
from wyoming.tts import Synthesize, SynthesizeChunk

from edge_runtime.settings import EdgeSettings
from edge_runtime.wyoming import Services, WyomingServer, services_from
from tests.edge_runtime import wyoming_client as ha
from tests.speech import Voices, join, silence


@pytest.fixture(scope="module")
def services(engines: Any, registry: Any) -> Services:
    return services_from(EdgeSettings(_env_file=None), engines, registry)  # type: ignore[call-arg]


async def raw(port: int, data: bytes, *, read_s: float = 5.0) -> tuple[list[dict[str, Any]], bool]:
    """Write bytes as they are; the events that come back, and whether the server closed the connection."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(data)
    await writer.drain()
    events, closed = [], False
    try:
        while True:
            line = await asyncio.wait_for(reader.readline(), read_s)
            if not line:
                closed = True
                break
            header = json.loads(line)
            if header.get("data_length"):
                header["data"] = json.loads(await reader.readexactly(header["data_length"]))
            events.append(header)
    except TimeoutError:
        pass
    writer.close()
    return events, closed


async def drained(server: WyomingServer, within_s: float = 5.0) -> None:
    """Until every connection has ended (a hang-up stops its work at the next await), at most `within_s`."""
    deadline = asyncio.get_running_loop().time() + within_s
    while server.connections and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.05)


def serve(services: Services, scenario: Any, **options: Any) -> Any:
    async def main() -> Any:
        async with WyomingServer(services, port=0, **options) as server:
            result = await scenario(server)
            info = await ha.describe(server.port)  # the server still serves the next client
            assert info.asr and info.tts
            await drained(server)
            assert not server.connections, "a connection was left running"
            return result

    return asyncio.run(main())


def codes(events: list[dict[str, Any]]) -> list[str]:
    return [e["data"]["code"] for e in events if e["type"] == "error"]


@pytest.mark.parametrize(
    ("sent", "code"),
    [
        (b"this is not json\n", "WYOMING_BAD_EVENT"),
        (b'["a", "list"]\n', "WYOMING_BAD_EVENT"),
        (b'{"data": {}}\n', "WYOMING_BAD_EVENT"),
        (b'{"type": "describe", "data": "text"}\n', "WYOMING_BAD_EVENT"),
        (b'{"type": "audio-chunk", "payload_length": -5}\n', "WYOMING_BAD_EVENT"),
        (b'{"type": "synthesize", "data_length": 9}\nnot json!', "WYOMING_BAD_EVENT"),
        (b"\xff\xfe\x00garbage\n", "WYOMING_BAD_EVENT"),
    ],
)
def test_a_malformed_event_gets_an_error_and_a_clean_close(services: Services, sent: bytes, code: str) -> None:
    events, closed = serve(services, lambda server: raw(server.port, sent))
    assert codes(events) == [code] and closed


def test_an_oversized_payload_is_refused_before_it_is_read(services: Services) -> None:
    header = {"type": "audio-chunk", "data": {"rate": 16000, "width": 2, "channels": 1}, "payload_length": 50_000_000}
    events, closed = serve(services, lambda server: raw(server.port, json.dumps(header).encode() + b"\n"))
    assert codes(events) == ["WYOMING_TOO_LARGE"] and closed
    long_line = b'{"type": "describe", "data": {"x": "' + b"a" * 20_000 + b'"}}\n'
    events, closed = serve(services, lambda server: raw(server.port, long_line))
    assert codes(events) == ["WYOMING_TOO_LARGE"] and closed


def test_wrong_content_gets_an_error_and_the_connection_goes_on(services: Services) -> None:
    async def scenario(server: WyomingServer) -> list[Event]:
        got = []
        async with AsyncTcpClient("127.0.0.1", server.port) as client:
            for event in (
                AudioStart(rate=96000, width=4, channels=6).event(),  # not an audio format we take
                SynthesizeChunk(text="no stream was started").event(),
                Event("synthesize", {"text": 42}),
                Transcribe(language="de").event(),  # tiny.en hears English only
                Event("synthesize", {"text": "hi", "voice": {"name": "nobody"}}),
                Event("transcript", {"text": "turn on the light"}),  # no brain was given here
                Event("run-satellite", {}),  # a kind of event this hub does not serve: dropped
                Describe().event(),
            ):
                await client.write_event(event)
                if event.type != "run-satellite":
                    got.append(await asyncio.wait_for(client.read_event(), 5))
        return got

    got = serve(services, scenario)
    assert [e.data.get("code") for e in got[:-1]] == [
        "WYOMING_BAD_AUDIO",
        "WYOMING_OUT_OF_ORDER",
        "WYOMING_BAD_EVENT",
        "WYOMING_UNSUPPORTED",
        "WYOMING_UNSUPPORTED",
        "WYOMING_UNSUPPORTED",
    ]
    assert all(e.data["text"].startswith("[WYOMING_") for e in got[:-1])
    assert got[-1].type == "info"  # still in step after all of that


def test_clients_that_leave_mid_stream(services: Services, voices: Voices) -> None:
    speech = ha.pcm16(join(voices.piper("Turn on the kitchen light."), silence(0.2)))

    async def scenario(server: WyomingServer) -> int:
        for _ in range(3):  # mid-audio, mid-speculation and mid-synthesis, three times over
            async with AsyncTcpClient("127.0.0.1", server.port) as client:
                await client.write_event(AudioStart(rate=16000, width=2, channels=1).event())
                for i in range(0, len(speech), 2048):
                    await client.write_event(
                        AudioChunk(rate=16000, width=2, channels=1, audio=speech[i : i + 2048]).event()
                    )
            async with AsyncTcpClient("127.0.0.1", server.port) as client:
                await client.write_event(Synthesize(text="This is a long reply. " * 20).event())
                assert (await client.read_event()) is not None  # audio-start: then hang up
            _, writer = await asyncio.open_connection("127.0.0.1", server.port)
            writer.write(b'{"type": "audio-chunk", "payload_length": 4000}\n' + b"\x00" * 100)
            writer.close()  # in the middle of a payload
        await drained(server)
        return len(server.connections)

    assert serve(services, scenario) == 0
    assert services.vads is not None and services.vads._spare.get(None), "the VAD instances came back to the pool"


def test_ten_concurrent_clients(services: Services, voices: Voices) -> None:
    sayings = [
        "Turn on the kitchen light.",
        "What time is it?",
        "Lock the front door.",
        "Turn off the bedroom lamp.",
        "Open the garage door.",
    ]
    audio = [join(silence(0.2), voices.piper(s), silence(0.8)) for s in sayings]

    async def scenario(server: WyomingServer) -> list[ha.Exchange]:
        asks = [ha.transcribe(server.port, audio[i % 5]) for i in range(8)]
        asks += [ha.synthesize(server.port, "Your timer is done."), ha.detect(server.port, audio[0])]
        return list(await asyncio.gather(*asks))

    results = serve(services, scenario)
    for i, got in enumerate(results[:8]):
        assert ha_words(got.first("transcript").data["text"]) == ha_words(sayings[i % 5]), got.events
    assert results[8].types()[-1] == "audio-stop" and results[9].types() == ["not-detected"]


def test_one_client_over_the_limit_is_told_busy(services: Services) -> None:
    async def scenario(server: WyomingServer) -> list[dict[str, Any]]:
        held = [await asyncio.open_connection("127.0.0.1", server.port) for _ in range(2)]
        await asyncio.sleep(0.1)
        events, closed = await raw(server.port, b"")
        assert closed
        for _, writer in held:
            writer.close()
        await asyncio.sleep(0.3)  # the server sees them leave
        return events

    assert codes(serve(services, scenario, max_clients=2)) == ["WYOMING_BUSY"]


def test_a_silent_client_is_closed(services: Services) -> None:
    events, closed = serve(services, lambda server: raw(server.port, b""), idle_timeout_s=0.5)
    assert codes(events) == ["WYOMING_IDLE"] and closed


def ha_words(text: str) -> str:
    return "".join(c for c in text.lower() if c.isalnum() or c == " ").strip()
