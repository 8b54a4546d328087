"""Wake arbitration in the pipeline: one processor claims the wake word, one holds the turn's
transcript until the home's hubs agree this hub answers (edge_runtime/peers/arbiter.py).

The losers keep listening to the turn without a sound, so one of them can answer if the winner dies."""

from __future__ import annotations

import asyncio

import numpy as np

from edge_runtime.app_events import Phase, StateEvent, TurnStream
from edge_runtime.frames import Frame, StartListening, Transcript, WakeDetected
from edge_runtime.peers.arbiter import Arbiter
from edge_runtime.pipeline.processor import DOWN, Direction, FrameProcessor, QueuedProcessor
from edge_runtime.trace import Tracer
from models.audio import RATE

PHRASE_S = 1.2  # how much audio before the detection holds the wake phrase
SILENT_DB = -96.0


def speech_level_db(recent: np.ndarray | None) -> float:
    """The wake phrase's level: the loudest 200 ms RMS of the last `PHRASE_S`, in dBFS."""
    if recent is None or not len(recent):
        return SILENT_DB
    pcm = recent[-int(PHRASE_S * RATE) :]
    step = RATE // 5
    windows = [pcm[i : i + step] for i in range(0, max(1, len(pcm) - step + 1), step // 2)]
    rms = max(float(np.sqrt(np.mean(np.square(w)))) for w in windows if len(w))
    return max(SILENT_DB, 20.0 * float(np.log10(rms))) if rms > 0 else SILENT_DB


class WakeClaims(FrameProcessor):
    """After the wake gate: each wake word becomes a claim to the home's other hubs."""

    def __init__(self, arbiter: Arbiter, tracer: Tracer) -> None:
        super().__init__()
        self.arbiter, self.tracer = arbiter, tracer
        self._deciding: set[asyncio.Task[None]] = set()

    async def process_frame(self, frame: Frame, direction: Direction) -> None:
        if direction is DOWN and isinstance(frame, WakeDetected):
            verdict = self.arbiter.claim(frame.score, speech_level_db(frame.recent))
            task = asyncio.create_task(self._decide(verdict))
            self._deciding.add(task)
            task.add_done_callback(self._deciding.discard)
        elif direction is DOWN and isinstance(frame, StartListening):
            self.arbiter.release()
        await self.push_frame(frame, direction)

    async def _decide(self, verdict) -> None:
        winner = await self.arbiter.decide(verdict)
        self.tracer.mark(
            "arbitration",
            winner=winner,
            mine=winner == self.arbiter.link.hub_id,
            level_db=verdict.claim.level_db,
            rivals=len(verdict.rivals),
            ms=verdict.decided_ms,
        )

    async def stop(self) -> None:
        for task in list(self._deciding):
            task.cancel()


class TurnOwner(QueuedProcessor):
    """Before the brain: a heard turn goes on only on the hub that took it; elsewhere it ends silent."""

    def __init__(self, arbiter: Arbiter, events: TurnStream, tracer: Tracer) -> None:
        super().__init__()
        self.arbiter, self.events, self.tracer = arbiter, events, tracer

    async def process_frame(self, frame: Frame, direction: Direction) -> None:
        heard = direction is DOWN and isinstance(frame, Transcript) and not frame.typed
        if heard and not await self.arbiter.owns():
            self.tracer.mark("yielded", text=getattr(frame, "text", ""))
            self.events.emit(StateEvent(state=Phase.IDLE, reason="another-hub"))
            return
        await self.push_frame(frame, direction)
