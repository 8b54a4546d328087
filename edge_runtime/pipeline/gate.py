"""The wake-word gate: audio goes downstream only after the wake word (or push-to-talk)."""

from __future__ import annotations

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

    def __init__(self, wake: WakeWord, tracer: Tracer, *, barge_in: bool = True) -> None:
        super().__init__()
        self.wake = wake
        self.tracer = tracer
        self.barge_in = barge_in
        self.listening = False
        self.playing = False

    async def process_frame(self, frame: Frame, direction: Direction) -> None:
        if direction is UP:
            if isinstance(frame, PlaybackStarted):
                self.playing = True
            elif isinstance(frame, PlaybackStopped):
                self.playing = False
            elif isinstance(frame, ListeningStopped):
                self.listening = False
            await self.push_frame(frame, UP)
            return
        if isinstance(frame, AudioIn):
            await self._on_audio(frame)
            return
        if isinstance(frame, StartListening):
            self.listening = True
        await self.push_frame(frame, direction)

    async def _on_audio(self, frame: AudioIn) -> None:
        detection = self.wake.process(frame.pcm)
        if self.listening:
            await self.push_frame(frame, DOWN)
            return
        if detection is None:
            return
        t = frame.t + len(frame.pcm) / frame.rate
        self.tracer.mark("wake", name=detection.name, score=round(detection.score, 3), t=round(t, 3))
        if self.playing and self.barge_in:
            self.tracer.mark("interrupt", reason="wake", t=round(t, 3))
            await self.push_frame(Interrupt(reason="wake", t=t), DOWN)
        self.listening = True
        await self.push_frame(WakeDetected(detection.name, detection.score, t), DOWN)
