"""One client connection: read events under limits, route each to its service, answer errors as events.

An event the protocol allows but whose content is wrong (an audio format, a voice, an event out
of order) gets an `error` event and the connection goes on; a stream that cannot be framed any
more (not JSON, over a limit, cut off) gets an `error` event and a clean close. Events of kinds
this hub does not serve are dropped, as the protocol asks of servers.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from wyoming.error import Error
from wyoming.event import Event
from wyoming.ping import Pong

from edge_runtime.wyoming.asr import AsrStream
from edge_runtime.wyoming.errors import Unsupported, WyomingError
from edge_runtime.wyoming.handle import handle
from edge_runtime.wyoming.services import Services
from edge_runtime.wyoming.tts import TtsStream
from edge_runtime.wyoming.wake import WakeStream
from edge_runtime.wyoming.wire import Limits, read_event, write_event
from models.errors import CompanionError

log = logging.getLogger(__name__)
AUDIO = ("audio-start", "audio-chunk", "audio-stop")
TTS = ("synthesize", "synthesize-start", "synthesize-chunk", "synthesize-stop")


class ClientGone(ConnectionError):
    """The client stopped reading (or left) while we wrote to it."""


class Connection:
    def __init__(
        self,
        services: Services,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        *,
        limits: Limits,
        idle_timeout_s: float,
    ) -> None:
        self.services, self.reader, self.writer = services, reader, writer
        self.limits, self.idle_timeout_s = limits, idle_timeout_s
        self.peer = str(writer.get_extra_info("peername"))
        self._lock = asyncio.Lock()
        self.asr: AsrStream | None = None
        self.tts: TtsStream | None = None
        self.wake: WakeStream | None = None
        self.audio_to = "asr"

    async def send(self, event: Event) -> None:
        async with self._lock:
            try:
                await write_event(event, self.writer, self.limits)
            except TimeoutError:
                raise ClientGone("the client stopped reading") from None

    async def error(self, err: CompanionError) -> None:
        log.info("wyoming.error", extra={"peer": self.peer, "code": err.code, "error": err.message})
        with contextlib.suppress(ConnectionError, OSError, RuntimeError):
            await self.send(Error(text=str(err), code=err.code).event())

    async def run(self) -> None:
        try:
            while True:
                try:
                    async with asyncio.timeout(self.idle_timeout_s):  # not wait_for: it can drop a cancel on 3.11
                        event = await read_event(self.reader, self.limits)
                except TimeoutError:
                    await self.error(WyomingError(f"no event for {self.idle_timeout_s:g} s", code="WYOMING_IDLE"))
                    return
                if event is None:
                    return
                try:
                    await self._dispatch(event)
                except CompanionError as err:  # the request failed; the connection is still in step
                    await self._drop(event.type)
                    await self.error(err)
        except WyomingError as err:  # out of step with the stream: say why, then close
            await self.error(err)
        except (ConnectionError, OSError):
            log.debug("wyoming.client_gone", extra={"peer": self.peer})
        except Exception as err:  # a bug must cost one connection, never the server
            log.exception("wyoming.failed", extra={"peer": self.peer})
            await self.error(WyomingError(f"the hub failed to serve this request: {type(err).__name__}"))
        finally:
            await self.close()

    async def close(self) -> None:
        for stream in (self.asr, self.tts, self.wake):
            if stream is not None:
                with contextlib.suppress(Exception):
                    await stream.close()
        self.writer.close()
        with contextlib.suppress(Exception):
            await self.writer.wait_closed()

    async def _dispatch(self, event: Event) -> None:
        kind, data = event.type, event.data
        if kind == "describe":
            await self.send(self.services.info.event())
        elif kind == "ping":
            await self.send(Pong(text=data.get("text")).event())
        elif kind == "transcribe":
            self.audio_to = "asr"
            await self._asr().transcribe(data)
        elif kind == "detect":
            self.audio_to = "wake"
            await self._wake().detect(data)
        elif kind in AUDIO:
            await self._audio(kind, event)
        elif kind in TTS:
            await self._tts(kind, event)
        elif kind == "transcript":
            services = self.services
            if services.brain is None or services.conversations is None:
                raise Unsupported("this hub's brain is not served over Wyoming")
            await handle(services.brain, services.conversations, data, self.send)

    async def _audio(self, kind: str, event: Event) -> None:
        stream: AsrStream | WakeStream = self._wake() if self.audio_to == "wake" else self._asr()
        if kind == "audio-start":
            await stream.start(event.data)
        elif kind == "audio-chunk":
            await stream.chunk(event.data, event.payload)
        else:
            await stream.stop()
            self.audio_to = "asr"

    async def _tts(self, kind: str, event: Event) -> None:
        tts = self._tts_stream()
        if kind == "synthesize":
            await tts.synthesize(event.data)
        elif kind == "synthesize-start":
            await tts.start(event.data)
        elif kind == "synthesize-chunk":
            await tts.chunk(event.data)
        else:
            await tts.stop()

    async def _drop(self, kind: str) -> None:
        """After a failed request, forget its stream so the next request starts clean."""
        if kind in TTS and self.tts is not None:
            await self.tts.close()
        elif kind in (*AUDIO, "transcribe", "detect"):
            for stream in (self.asr, self.wake):
                if stream is not None:
                    await stream.close()
            self.asr = self.wake = None
            self.audio_to = "asr"

    def _asr(self) -> AsrStream:
        s = self.services
        if s.stt is None or s.vads is None:
            raise Unsupported("this hub serves no speech-to-text over Wyoming")
        if self.asr is None:
            self.asr = AsrStream(s.stt, s.vads, self.send, max_s=s.max_audio_s, threshold=s.vad_threshold)
        return self.asr

    def _wake(self) -> WakeStream:
        s = self.services
        if s.wakes is None or not s.wake_words:
            raise Unsupported("this hub serves no wake word detection over Wyoming")
        if self.wake is None:
            self.wake = WakeStream(s.wakes, s.wake_words, self.send)
        return self.wake

    def _tts_stream(self) -> TtsStream:
        s = self.services
        if s.tts is None:
            raise Unsupported("this hub serves no text-to-speech over Wyoming")
        if self.tts is None:
            self.tts = TtsStream(s.tts, self.send, voice=s.voice, language=s.voice_language, aliases=s.voice_aliases)
        return self.tts
