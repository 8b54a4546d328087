"""Reply -> audio, one sentence at a time, resampled to what the output needs."""

from __future__ import annotations

import asyncio

from edge_runtime.audio.convert import resample, to_int16
from edge_runtime.audio.earcon import earcon
from edge_runtime.frames import Frame, Interrupt, Reply, TTSAudio, TTSStarted, TTSStopped
from edge_runtime.pipeline.processor import UP, Direction, QueuedProcessor
from edge_runtime.trace import Tracer
from models.tts import TTS


class TtsProcessor(QueuedProcessor):
    def __init__(self, tts: TTS, tracer: Tracer, *, output_rate: int) -> None:
        super().__init__()
        self.tts = tts
        self.tracer = tracer
        self.output_rate = output_rate
        self._speaking = False  # a streamed reply spans several Reply frames
        self._first = True

    async def process_frame(self, frame: Frame, direction: Direction) -> None:
        if isinstance(frame, Interrupt):
            self._speaking = False
        if direction is UP or not isinstance(frame, Reply):
            await self.push_frame(frame, direction)
            return
        if not frame.text.strip() and not self._speaking:
            return
        if not self._speaking:
            self._speaking = True
            self.tracer.mark("tts_start", text=frame.text, kind=frame.kind)
            await self.push_frame(TTSStarted())
            self._first = True
        if frame.kind == "earcon":  # the chime, not the words: nothing to synthesize
            self.tracer.mark("tts_first_audio")
            self._speaking = False
            await self.push_frame(TTSAudio(earcon(self.output_rate), self.output_rate))
            self.tracer.mark("tts_done")
            await self.push_frame(TTSStopped())
            return
        sentences = self.tts.synthesize(frame.text)
        try:
            while (chunk := await asyncio.to_thread(next, sentences, None)) is not None:
                pcm = to_int16(resample(chunk, self.tts.sample_rate, self.output_rate))
                if self._first:
                    self.tracer.mark("tts_first_audio")
                    self._first = False
                await self.push_frame(TTSAudio(pcm, self.output_rate))
        finally:
            if frame.final or not self._speaking:
                self._speaking = False
                self.tracer.mark("tts_done")
                await self.push_frame(TTSStopped())
