"""One voice turn paced in real time, as a live microphone would feed it: the marks it left."""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import numpy as np

from edge_runtime.audio.sinks import ArraySink
from edge_runtime.audio.sources import ArraySource
from edge_runtime.brain.device_skill import DeviceSkill
from edge_runtime.clock import SystemClock
from edge_runtime.engines import Engines
from edge_runtime.hub import build_hub
from edge_runtime.loop import AudioLoop
from edge_runtime.pipeline.endpoint import Endpointer
from edge_runtime.pipeline.turn import TurnJudge
from edge_runtime.settings import EdgeSettings
from edge_runtime.skills.builtin import BuiltinSkills
from edge_runtime.skills.timers import TimerManager
from edge_runtime.trace import Mark, Tracer
from models.vad import Vad

STAGES = ("endpoint", "stt", "skill", "first_audio")


async def realtime_turn(
    settings: EdgeSettings, engines: Engines, audio: np.ndarray, *, devices: DeviceSkill | None = None
) -> dict[str, Mark] | None:
    """Marks of the turn's stages, or None if one is missing (no wake, nothing said...)."""
    tracer = Tracer()
    engines.wake.reset()
    hub = build_hub(settings, engines, SystemClock(), tracer=tracer, devices=devices)
    loop = AudioLoop(hub, ArraySink(hub.output.rate), realtime=True, lockstep=False)
    await hub.start()
    try:
        # A command acted on at a short pause answers before the endpoint: wait for both.
        await loop.run(ArraySource(audio).blocks(), until=lambda: all(tracer.last(s) for s in STAGES))
    finally:
        await hub.stop()
    marks = {stage: tracer.last(stage) for stage in STAGES}
    return None if any(m is None for m in marks.values()) else marks  # type: ignore[return-value]


def ms(later: Mark | float, earlier: Mark | float) -> float:
    """Milliseconds between two marks (or wall-clock readings)."""
    a = later.wall if isinstance(later, Mark) else later
    b = earlier.wall if isinstance(earlier, Mark) else earlier
    return 1000 * (a - b)


def hub_endpointer(settings: EdgeSettings, vad: Vad) -> Endpointer:
    """The Endpointer as the hub builds it (edge_runtime/hub.py), for benches that feed it directly."""
    return Endpointer(
        vad,
        Tracer(),
        threshold=settings.vad_threshold,
        trailing_silence_ms=settings.open_silence_ms if settings.commit_on_meaning else settings.trailing_silence_ms,
        max_utterance_s=settings.max_utterance_s,
        no_speech_timeout_s=settings.no_speech_timeout_s,
        speculative=settings.speculative_stt,
    )


@contextlib.asynccontextmanager
async def judged_home() -> AsyncIterator[TurnJudge]:
    """The hub's TurnJudge (built-ins and devices) over the simulated home of tests/turn_sets.py, on
    a broker of its own."""
    from device_drivers.mosquitto import Mosquitto
    from tests.turn_sets import with_home

    with tempfile.TemporaryDirectory() as tmp:
        broker = Mosquitto(Path(tmp) / "broker").start()
        try:
            sim, hub, skill = await with_home(broker.url, Path(tmp) / "d.sqlite3")
            clock = SystemClock()

            async def ring(*_: Any) -> None:
                return None

            try:
                yield TurnJudge(BuiltinSkills(clock, TimerManager(clock, ring)), skill)
            finally:
                await hub.stop()
                sim.__exit__(None, None, None)
        finally:
            broker.stop()
