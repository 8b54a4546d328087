"""`tts`: synthesize -> audio-start, audio-chunk... audio-stop, one sentence at a time.

One-shot (`synthesize`): one audio-start, the chunks of every sentence as each is ready, one
audio-stop. Streaming (`synthesize-start`, `-chunk`..., `-stop`), as Home Assistant sends a reply
while its LLM still writes it: each finished sentence is spoken at once, with its own
audio-start/audio-stop, and `synthesize-stopped` ends the stream. The `synthesize` a client
sends inside a stream is a copy of the whole text for older servers, and is ignored.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import numpy as np
from wyoming.audio import AudioStop
from wyoming.event import Event
from wyoming.tts import SynthesizeStopped

from edge_runtime.brain.speech import sentences
from edge_runtime.wyoming.audio import audio_chunks, audio_start
from edge_runtime.wyoming.errors import BadEvent, OutOfOrder, PayloadTooLarge, Unsupported
from models.tts import TTS

Send = Callable[[Event], Awaitable[None]]
MAX_STREAM_CHARS = 20_000  # a reply, not a book: more is refused with WYOMING_TOO_LARGE


class TtsStream:
    def __init__(self, tts: TTS, send: Send, *, voice: str, language: str, aliases: tuple[str, ...] = ()) -> None:
        self.tts, self.send = tts, send
        self.voice, self.language = voice, language
        self.names = {voice, *aliases}
        self._queue: asyncio.Queue[str | None] | None = None
        self._worker: asyncio.Task[None] | None = None
        self._chars = 0

    @property
    def streaming(self) -> bool:
        return self._queue is not None

    async def synthesize(self, data: dict[str, Any]) -> None:
        if self.streaming:
            return  # the compatibility copy of a stream's text
        text = _text(data)
        self._check_voice(data.get("voice"))
        await self.send(audio_start(self.tts.sample_rate).event())
        sent = 0
        async for audio in self._speak(text):
            sent = await self._chunks(audio, sent)
        await self.send(AudioStop(timestamp=1000 * sent // self.tts.sample_rate).event())

    async def start(self, data: dict[str, Any]) -> None:
        if self.streaming:
            raise OutOfOrder("synthesize-start inside a stream that has not stopped")
        self._check_voice(data.get("voice"))
        self._queue, self._chars = asyncio.Queue(), 0
        self._worker = asyncio.create_task(self._stream(self._queue))

    async def chunk(self, data: dict[str, Any]) -> None:
        if self._queue is None:
            raise OutOfOrder("synthesize-chunk without synthesize-start")
        text = _text(data)
        self._chars += len(text)
        if self._chars > MAX_STREAM_CHARS:
            raise PayloadTooLarge(f"a synthesize stream over {MAX_STREAM_CHARS} characters")
        self._queue.put_nowait(text)

    async def stop(self) -> None:
        if self._queue is None or self._worker is None:
            raise OutOfOrder("synthesize-stop without synthesize-start")
        self._queue.put_nowait(None)
        worker, self._queue, self._worker = self._worker, None, None
        await worker
        await self.send(SynthesizeStopped().event())

    async def close(self) -> None:
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._worker
        self._queue = self._worker = None

    async def _stream(self, queue: asyncio.Queue[str | None]) -> None:
        async def pieces() -> AsyncIterator[str]:
            while (piece := await queue.get()) is not None:
                yield piece

        async for sentence in sentences(pieces()):
            await self.send(audio_start(self.tts.sample_rate).event())
            sent = 0
            async for audio in self._speak(sentence):
                sent = await self._chunks(audio, sent)
            await self.send(AudioStop(timestamp=1000 * sent // self.tts.sample_rate).event())

    async def _speak(self, text: str) -> AsyncIterator[np.ndarray]:
        """The engine's sentences, each synthesized on a worker thread so the loop keeps serving."""
        steps = self.tts.synthesize(" ".join(text.split()))
        try:
            while (audio := await asyncio.to_thread(next, steps, None)) is not None:
                yield audio
        finally:
            close = getattr(steps, "close", None)
            with contextlib.suppress(ValueError):  # still running on its thread: it ends by itself
                if close is not None:
                    close()

    async def _chunks(self, audio: np.ndarray, sent: int) -> int:
        rate = self.tts.sample_rate
        for chunk in audio_chunks(audio, rate, 1000 * sent // rate):
            await self.send(chunk.event())
        return sent + len(audio)

    def _check_voice(self, voice: Any) -> None:
        if not voice:
            return
        if not isinstance(voice, dict):
            raise BadEvent("'voice' must be an object with a name or a language")
        name, language = voice.get("name"), voice.get("language")
        if name is not None and name not in self.names:
            raise Unsupported(f"no voice {str(name)[:40]!r} on this hub; it has {self.voice!r}")
        if language is not None and _family(str(language)) != _family(self.language):
            raise Unsupported(f"this hub speaks {self.language!r}, not {str(language)[:20]!r}")


def _text(data: dict[str, Any]) -> str:
    text = data.get("text")
    if not isinstance(text, str):
        raise BadEvent("'text' must be a string")
    return text


def _family(language: str) -> str:
    return language.replace("-", "_").split("_")[0].lower()
