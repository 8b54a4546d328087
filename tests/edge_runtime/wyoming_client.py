"""Wyoming requests as Home Assistant makes them: the `wyoming` client library, a new TCP connection
per request, and audio sent in 64 ms chunks paced by the wall clock, as a satellite streams it."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

import numpy as np
from wyoming.asr import Transcribe
from wyoming.audio import AudioChunk, AudioStart, AudioStop
from wyoming.client import AsyncTcpClient
from wyoming.event import Event
from wyoming.info import Describe, Info
from wyoming.tts import Synthesize, SynthesizeChunk, SynthesizeStart, SynthesizeStop
from wyoming.wake import Detect

RATE = 16000
CHUNK = 1024  # samples: what wyoming-satellite sends


def pcm16(audio: np.ndarray) -> bytes:
    return (np.clip(audio, -1, 1) * 32767).astype("<i2").tobytes()


def pcm_audio(events: list[Event]) -> tuple[np.ndarray, int]:
    chunks = [e for e in events if e.type == "audio-chunk"]
    pcm = b"".join(e.payload or b"" for e in chunks)
    rate = int(chunks[0].data["rate"]) if chunks else 0
    return np.frombuffer(pcm, dtype="<i2").astype(np.float32) / 32768, rate


@dataclass
class Exchange:
    events: list[Event] = field(default_factory=list)
    at: list[float] = field(default_factory=list)  # monotonic time each event arrived
    stop_sent: float = 0.0  # when audio-stop (or synthesize-stop) was written

    def types(self) -> list[str]:
        return [e.type for e in self.events]

    def first(self, kind: str) -> Event:
        return next(e for e in self.events if e.type == kind)

    def arrived(self, kind: str) -> float:
        return next(t for e, t in zip(self.events, self.at, strict=True) if e.type == kind)


async def read_until(client: AsyncTcpClient, done: tuple[str, ...], into: Exchange, timeout_s: float = 30.0) -> None:
    while True:
        event = await asyncio.wait_for(client.read_event(), timeout_s)
        if event is None:
            return
        into.events.append(event)
        into.at.append(time.monotonic())
        if event.type in done or event.type == "error":
            return


async def describe(port: int) -> Info:
    async with AsyncTcpClient("127.0.0.1", port) as client:
        await client.write_event(Describe().event())
        got = Exchange()
        await read_until(client, ("info",), got, timeout_s=1.0)  # Home Assistant waits 1 s for it
        return Info.from_event(got.first("info"))


async def stream_audio(client: AsyncTcpClient, audio: np.ndarray, *, paced: bool = True) -> None:
    await client.write_event(AudioStart(rate=RATE, width=2, channels=1).event())
    raw, started = pcm16(audio), time.monotonic()
    for n, i in enumerate(range(0, len(raw), 2 * CHUNK)):
        if paced:
            await asyncio.sleep(max(0.0, started + n * CHUNK / RATE - time.monotonic()))
        await client.write_event(AudioChunk(rate=RATE, width=2, channels=1, audio=raw[i : i + 2 * CHUNK]).event())


async def transcribe(
    port: int, audio: np.ndarray, *, language: str = "en", paced: bool = True, stop_after_partial: bool = False
) -> Exchange:
    """`stop_after_partial`: hold audio-stop until a partial transcript has come (30 s at most), which
    proves the service transcribes while audio still flows without a race against the clock."""
    got = Exchange()
    async with AsyncTcpClient("127.0.0.1", port) as client:
        reader = asyncio.ensure_future(read_until(client, ("transcript-stop",), got))
        await client.write_event(Transcribe(language=language).event())
        await stream_audio(client, audio, paced=paced)
        deadline = time.monotonic() + 30
        while stop_after_partial and "transcript-chunk" not in got.types() and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        got.stop_sent = time.monotonic()
        await client.write_event(AudioStop().event())
        await reader
    return got


async def synthesize(port: int, text: str, **voice: str) -> Exchange:
    from wyoming.tts import SynthesizeVoice

    got = Exchange()
    async with AsyncTcpClient("127.0.0.1", port) as client:
        got.stop_sent = time.monotonic()
        await client.write_event(Synthesize(text=text, voice=SynthesizeVoice(**voice) if voice else None).event())
        await read_until(client, ("audio-stop",), got)
    return got


async def synthesize_stream(port: int, pieces: list[str], gap_s: float = 0.3) -> Exchange:
    """Text as an LLM writes it, a piece every `gap_s`, then the compatibility `synthesize` and the stop."""
    got = Exchange()
    async with AsyncTcpClient("127.0.0.1", port) as client:
        reader = asyncio.ensure_future(read_until(client, ("synthesize-stopped",), got))
        await client.write_event(SynthesizeStart().event())
        for piece in pieces:
            await client.write_event(SynthesizeChunk(text=piece).event())
            await asyncio.sleep(gap_s)
        await client.write_event(Synthesize(text="".join(pieces)).event())
        got.stop_sent = time.monotonic()
        await client.write_event(SynthesizeStop().event())
        await reader
    return got


async def detect(port: int, audio: np.ndarray, names: list[str] | None = None) -> Exchange:
    got = Exchange()
    async with AsyncTcpClient("127.0.0.1", port) as client:
        reader = asyncio.ensure_future(read_until(client, ("detection", "not-detected"), got))
        await client.write_event(Detect(names=names).event())
        await stream_audio(client, audio)
        if not reader.done():
            got.stop_sent = time.monotonic()
            await client.write_event(AudioStop().event())
        await reader
    return got


async def ask(port: int, text: str, conversation_id: str = "ha-conversation") -> Exchange:
    from wyoming.asr import Transcript

    got = Exchange()
    async with AsyncTcpClient("127.0.0.1", port) as client:
        context = {"conversation_id": conversation_id}
        await client.write_event(Transcript(text=text, context=context, language="en").event())
        await read_until(client, ("handled-stop", "not-handled"), got)
    return got
