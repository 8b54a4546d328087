"""The wake-word gate: audio goes downstream only after the wake word (or push-to-talk).

It keeps the last couple of seconds: openWakeWord fires 20-440 ms after the phrase ends, so in
a one-breath request ("Hey Jarvis turn on ...") the request has begun before the gate opens.
"""

from __future__ import annotations

from collections import deque

import numpy as np

from edge_runtime.audio.convert import to_int16
from edge_runtime.frames import (
    AudioIn,
    Frame,
    Interrupt,
    ListeningStopped,
    PlaybackStarted,
    PlaybackStopped,
    StartListening,
    WakeDetected,
)
from edge_runtime.pipeline.processor import DOWN, UP, Direction, FrameProcessor
from edge_runtime.trace import Tracer
from models.wake import WakeWord


class WakeGate(FrameProcessor):
    """Scores every block for the wake word; while playback runs, a detection barges in."""

    def __init__(self, wake: WakeWord, tracer: Tracer, *, barge_in: bool = True, recent_s: float = 2.4) -> None:
        super().__init__()
        self.wake = wake
        self.tracer = tracer
        self.barge_in = barge_in
        self.listening = False
        self.playing = False
        self._held_playback = False
        self.recent: deque[np.ndarray] = deque(maxlen=max(0, round(recent_s / 0.08)))  # 0: keep none

    async def process_frame(self, frame: Frame, direction: Direction) -> None:
        if direction is UP:
            if isinstance(frame, PlaybackStarted):
                self.playing = True
                if self.listening:
                    # A reply to a command acted on mid-turn: the turn is still open, so the
                    # speaker's next words continue it; arm speech barge-in once it closes.
                    self._held_playback = True
                    return
            elif isinstance(frame, PlaybackStopped):
                self.playing = False
                if self._held_playback:
                    self._held_playback = False
                    return
            elif isinstance(frame, ListeningStopped):
                self.listening = False
                if self._held_playback:
                    self._held_playback = False
                    await self.push_frame(frame, UP)
                    await self.push_frame(PlaybackStarted(), UP)
                    return
            await self.push_frame(frame, UP)
            return
        if isinstance(frame, AudioIn):
            await self._on_audio(frame)
            return
        if isinstance(frame, StartListening):
            self.listening = True
        await self.push_frame(frame, direction)

    async def _on_audio(self, frame: AudioIn) -> None:
        detection = self.wake.process(to_int16(frame.pcm))  # the one int16 copy: openWakeWord's
        if self.listening:
            self.recent.clear()
            await self.push_frame(frame, DOWN)
            return
        self.recent.append(frame.pcm)
        if detection is None:
            return
        t = frame.t + len(frame.pcm) / frame.rate
        self.tracer.mark("wake", name=detection.name, score=round(detection.score, 3), t=round(t, 3))
        if self.playing and self.barge_in:
            self.tracer.mark("interrupt", reason="wake", t=round(t, 3))
            await self.push_frame(Interrupt(reason="wake", t=t), DOWN)
        self.listening = True
        recent = np.concatenate(list(self.recent)) if self.recent else None
        self.recent.clear()
        await self.push_frame(WakeDetected(detection.name, detection.score, t, recent=recent), DOWN)
