"""Utterance -> Transcript, reusing a speculative transcription when the cut was right."""

from __future__ import annotations

import asyncio
import logging
import time

from edge_runtime.frames import Frame, Interrupt, Transcript, Utterance
from edge_runtime.pipeline.processor import UP, Direction, QueuedProcessor
from edge_runtime.trace import Tracer
from models.errors import CompanionError
from models.stt import STT, SttResult

log = logging.getLogger(__name__)


class SttProcessor(QueuedProcessor):
    def __init__(self, stt: STT, tracer: Tracer) -> None:
        super().__init__()
        self.stt = stt
        self.tracer = tracer
        self._spec: tuple[float, int, asyncio.Task[SttResult]] | None = None

    async def process_frame(self, frame: Frame, direction: Direction) -> None:
        if direction is UP or not isinstance(frame, Utterance | Interrupt):
            await self.push_frame(frame, direction)
            return
        if isinstance(frame, Interrupt):
            self._drop_speculation()
            await self.push_frame(frame, direction)
            return
        if not frame.final:
            self._drop_speculation()
            task = asyncio.create_task(self.stt.atranscribe(frame.audio))
            self._spec = (frame.speech_end_t, len(frame.audio), task)
            return
        await self._final(frame)

    async def _final(self, utt: Utterance) -> None:
        started = time.perf_counter()
        reused = False
        try:
            if len(utt.audio) == 0:
                result = SttResult("", self.stt.language, 0.0, 0.0)
            elif self._spec and self._spec[:2] == (utt.speech_end_t, len(utt.audio)):
                reused = True
                result = await self._spec[2]
            else:
                self._drop_speculation()
                result = await self.stt.atranscribe(utt.audio)
        except CompanionError as err:
            log.warning("stt.failed", extra={"code": err.code, "error": err.message})
            self.tracer.mark("stt", ms=0.0, text="", error=err.code)
            await self.push_frame(Transcript("", error=err.code))
            return
        finally:
            self._spec = None
        waited_ms = round(1000 * (time.perf_counter() - started), 1)
        self.tracer.mark(
            "stt",
            ms=round(1000 * result.compute_s, 1),
            waited_ms=waited_ms,
            speculative=reused,
            text=result.text,
            audio_s=round(result.audio_s, 3),
        )
        await self.push_frame(Transcript(result.text, stt_ms=round(1000 * result.compute_s, 1)))

    def _drop_speculation(self) -> None:
        if self._spec is not None:
            task = self._spec[2]
            task.cancel()
            task.add_done_callback(_consume)
            self._spec = None


def _consume(task: asyncio.Task[SttResult]) -> None:
    """Retrieve a dropped speculation's outcome so asyncio does not warn about it."""
    if not task.cancelled():
        task.exception()
