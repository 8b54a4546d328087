"""The pipeline's tail: a playback buffer that the audio clock drains block by block."""

from __future__ import annotations

import asyncio
from collections import deque

import numpy as np

from edge_runtime.frames import Frame, Interrupt, PlaybackStarted, PlaybackStopped, TTSAudio, TTSStarted, TTSStopped
from edge_runtime.pipeline.processor import UP, Direction, FrameProcessor
from edge_runtime.trace import Tracer


class PlaybackOutput(FrameProcessor):
    """Buffers reply audio; an Interrupt empties it at once, so playback stops mid-word."""

    def __init__(self, rate: int, tracer: Tracer, *, keep_replies: bool = False) -> None:
        super().__init__()
        self.rate = rate
        self.tracer = tracer
        self.keep_replies = keep_replies
        self.replies: list[np.ndarray] = []
        self._buffer: deque[np.ndarray] = deque()
        self._buffered = 0
        self._tts_active = False
        self.playing = False
        self.ready = asyncio.Event()  # set while reply audio waits: a paced sender need not finish its tick

    @property
    def buffered_samples(self) -> int:
        return self._buffered

    async def process_frame(self, frame: Frame, direction: Direction) -> None:
        if direction is UP:
            await self.push_frame(frame, UP)
        elif isinstance(frame, TTSStarted):
            self._tts_active = True
        elif isinstance(frame, TTSAudio):
            self._buffer.append(frame.pcm)
            self._buffered += len(frame.pcm)
            self.ready.set()
            if self.keep_replies:
                self.replies.append(frame.pcm)
            if not self.playing:
                self.playing = True
                self.tracer.mark("first_audio")
                await self.push_frame(PlaybackStarted(), UP)
        elif isinstance(frame, TTSStopped):
            self._tts_active = False
            self.tracer.mark("turn_done", spoken=True)
            if self.playing and not self._buffered:
                await self._stopped("done")
        elif isinstance(frame, Interrupt):
            self._buffer.clear()
            self._buffered = 0
            self.ready.clear()
            self._tts_active = False
            if self.playing:
                await self._stopped(frame.reason)

    async def pull(self, n: int) -> np.ndarray:
        """Up to n samples of reply audio for the speaker (fewer, or none, when idle)."""
        out: list[np.ndarray] = []
        need = n
        while need and self._buffer:
            head = self._buffer[0]
            if len(head) <= need:
                out.append(self._buffer.popleft())
                need -= len(head)
            else:
                out.append(head[:need])
                self._buffer[0] = head[need:]
                need = 0
        self._buffered -= n - need
        if not self._buffered:
            self.ready.clear()
        if self.playing and not self._buffered and not self._tts_active:
            await self._stopped("done")
        return np.concatenate(out) if out else np.zeros(0, dtype=np.int16)

    async def _stopped(self, reason: str) -> None:
        self.playing = False
        self.tracer.mark("playback_stop", reason=reason)
        await self.push_frame(PlaybackStopped(), UP)
