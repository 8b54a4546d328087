"""`asr`: transcribe -> audio-start, audio-chunk... audio-stop -> transcript, with partial transcripts.

The client (Home Assistant, a satellite) decides where the command ends and sends audio-stop.
While audio arrives, a Silero VAD of this stream's own watches it; at the first short pause
after speech the audio so far is transcribed speculatively and sent as a partial transcript.
When audio-stop comes and nothing was said since that pause, the speculative transcript is
the answer, so audio-stop -> transcript costs next to nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

import numpy as np
from wyoming.asr import Transcript, TranscriptChunk, TranscriptStart, TranscriptStop
from wyoming.event import Event

from edge_runtime.wyoming.audio import RATE, Decoder, Format
from edge_runtime.wyoming.errors import Unsupported
from edge_runtime.wyoming.pool import Pool
from models.stt import STT, SttResult
from models.vad import Vad

Send = Callable[[Event], Awaitable[None]]
Cut = tuple[int, int]
SPECULATE_MS = 96  # a pause this long after speech starts a speculative transcription
PREROLL_MS = 256  # audio kept before the first voiced frame


class AsrStream:
    def __init__(self, stt: STT, vads: Pool[Vad], send: Send, *, max_s: float = 30.0, threshold: float = 0.5) -> None:
        self.stt, self.vads, self.send = stt, vads, send
        self.max_samples = int(max_s * RATE)
        self.start_threshold, self.keep_threshold = threshold, max(0.05, threshold - 0.15)
        self.vad: Vad | None = None
        self.decoder: Decoder | None = None
        self._spec: tuple[Cut, asyncio.Task[SttResult]] | None = None
        self._reset()

    def _reset(self) -> None:
        self._chunks: list[np.ndarray] = []
        self._samples = 0
        self._frame_buf = np.zeros(0, dtype=np.float32)
        self._frames = 0
        self._speech_start: int | None = None
        self._speech_end = 0
        self._silence = 0
        self._sent = ""
        self._started = False
        self._finished = False
        self._drop_speculation()

    async def transcribe(self, data: dict[str, Any]) -> None:
        language = data.get("language")
        if language and str(language).split("-")[0].split("_")[0].lower() != self.stt.language:
            raise Unsupported(f"this hub transcribes {self.stt.language!r} only, not {str(language)[:20]!r}")

    async def start(self, data: dict[str, Any]) -> None:
        fmt = Format.of(data)
        self._reset()
        if self.vad is None:
            self.vad = await self.vads.take()
        else:
            self.vad.reset()
        self.decoder = Decoder(fmt)

    async def chunk(self, data: dict[str, Any], payload: bytes | None) -> None:
        if self.decoder is None:  # audio with no audio-start: take the chunk's own format
            await self.start(data)
        assert self.decoder is not None and self.vad is not None
        audio = self.decoder.decode(data, payload)
        if self._finished or not len(audio):
            return
        audio = audio[: self.max_samples - self._samples]
        self._chunks.append(audio)
        self._samples += len(audio)
        self._frame_buf = np.concatenate([self._frame_buf, audio])
        step = self.vad.frame_samples
        while len(self._frame_buf) >= step:
            frame, self._frame_buf = self._frame_buf[:step], self._frame_buf[step:]
            self._on_frame(self.vad.probability(frame))
        if self._samples >= self.max_samples:  # as long as Whisper hears: answer now, ignore the rest
            await self._finish()

    async def stop(self) -> None:
        if self.decoder is None:
            await self.start({"rate": RATE, "width": 2, "channels": 1})
        if not self._finished:
            await self._finish()
        self.decoder = None

    async def close(self) -> None:
        self._drop_speculation()
        if self.vad is not None:
            self.vads.give(self.vad)
            self.vad = None

    # --- speech tracking and speculation

    def _on_frame(self, prob: float) -> None:
        step = self.vad.frame_samples if self.vad else 512
        end = (self._frames + 1) * step
        self._frames += 1
        if self._speech_start is None:
            if prob >= self.start_threshold:
                self._speech_start = max(0, end - step - PREROLL_MS * RATE // 1000)
                self._speech_end, self._silence = end, 0
            return
        if prob >= self.keep_threshold:
            self._speech_end, self._silence = end, 0
            return
        self._silence += 1
        if self._silence == max(1, SPECULATE_MS * RATE // 1000 // step):  # once per pause
            self._speculate()

    def _cut(self) -> Cut:
        """The audio to transcribe: from just before speech to a fixed tail after its last voiced frame,
        so a speculative cut and the final one are the same audio whenever the speaker did stop."""
        if self._speech_start is None:
            return (0, self._samples)
        tail = SPECULATE_MS * RATE // 1000
        return (self._speech_start, min(self._samples, self._speech_end + tail))

    def _audio(self, cut: Cut) -> np.ndarray:
        whole = np.concatenate(self._chunks) if len(self._chunks) != 1 else self._chunks[0]
        self._chunks = [whole]
        return whole[cut[0] : cut[1]]

    def _speculate(self) -> None:
        cut = self._cut()
        if self._spec is not None and self._spec[0] == cut:
            return
        self._drop_speculation()
        audio = self._audio(cut)
        self._spec = (cut, asyncio.create_task(self._partial(self.stt.atranscribe(audio))))

    async def _partial(self, transcribing: Awaitable[SttResult]) -> SttResult:
        result = await transcribing
        if not self._finished:
            await self._send_text(result.text)
        return result

    async def _send_text(self, text: str) -> None:
        """transcript-start once, then what the text adds to what was already sent."""
        if not self._started:
            self._started = True
            await self.send(TranscriptStart(language=self.stt.language).event())
        if text.startswith(self._sent) and len(text) > len(self._sent):
            delta, self._sent = text[len(self._sent) :], text
            await self.send(TranscriptChunk(text=delta).event())

    def _drop_speculation(self) -> None:
        if self._spec is not None:
            task = self._spec[1]
            task.cancel()
            task.add_done_callback(_consume)
            self._spec = None

    async def _finish(self) -> None:
        cut = self._cut()
        spec = self._spec
        if spec is not None and spec[0] == cut:
            result = await spec[1]
            self._spec = None
        else:
            self._drop_speculation()
            audio = self._audio(cut) if self._samples else np.zeros(0, dtype=np.float32)
            result = await self.stt.atranscribe(audio)
            await self._send_text(result.text)
        self._finished = True
        if not self._started:
            await self._send_text(result.text)
        await self.send(Transcript(text=result.text, language=self.stt.language).event())
        await self.send(TranscriptStop().event())


def _consume(task: asyncio.Task[SttResult]) -> None:
    """Retrieve a dropped speculation's outcome so asyncio does not warn about it."""
    with contextlib.suppress(asyncio.CancelledError, Exception):
        task.result()
