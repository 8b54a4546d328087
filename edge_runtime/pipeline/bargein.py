"""Speech barge-in: while the hub speaks, sustained user speech interrupts it and opens the gate."""

from __future__ import annotations

from collections import deque

import numpy as np

from edge_runtime.frames import AudioIn, Frame, Interrupt, PlaybackStarted, PlaybackStopped, StartListening
from edge_runtime.pipeline.processor import DOWN, UP, Direction, FrameProcessor
from edge_runtime.trace import Tracer
from models.vad import Vad


class SpeechBargeIn(FrameProcessor):
    """While the hub speaks, sustained user speech interrupts it and opens the gate."""

    def __init__(
        self,
        vad: Vad,
        tracer: Tracer,
        *,
        threshold: float = 0.5,
        min_speech_ms: int = 160,
        enabled: bool = True,
    ) -> None:
        super().__init__()
        self.vad = vad
        self.tracer = tracer
        self.threshold = threshold
        self.min_frames = max(1, min_speech_ms // 32)
        self.enabled = enabled
        self.playing = False
        self._run = 0
        self._pending = np.zeros(0, dtype=np.float32)
        self._recent: deque[np.ndarray] = deque(maxlen=8)  # 640 ms of pre-roll for the STT

    async def process_frame(self, frame: Frame, direction: Direction) -> None:
        if direction is UP:
            if isinstance(frame, PlaybackStarted):
                self.playing = True
                self._run = 0
                self.vad.reset()
            elif isinstance(frame, PlaybackStopped):
                self.playing = False
            await self.push_frame(frame, UP)
            return
        if isinstance(frame, AudioIn):
            self._recent.append(frame.pcm)
            if self.enabled and self.playing and await self._speech_started(frame):
                t = frame.t + len(frame.pcm) / frame.rate
                self.tracer.mark("interrupt", reason="speech", t=round(t, 3))
                self.playing = False
                await self.push_frame(Interrupt(reason="speech", t=t), DOWN)
                preroll = np.concatenate(list(self._recent))  # ends where this frame ends, at t
                start = round(t - len(preroll) / frame.rate, 6)
                await self.push_frame(StartListening(preroll=preroll, preroll_t=start), DOWN)
                return
        await self.push_frame(frame, direction)

    async def _speech_started(self, frame: AudioIn) -> bool:
        self._pending = np.concatenate([self._pending, frame.pcm])
        size = self.vad.frame_samples
        while len(self._pending) >= size:
            chunk, self._pending = self._pending[:size], self._pending[size:]
            self._run = self._run + 1 if self.vad.probability(chunk) >= self.threshold else 0
            if self._run >= self.min_frames:
                self._run = 0
                self._pending = self._pending[:0]
                return True
        return False
