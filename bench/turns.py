"""One voice turn paced in real time, as a live microphone would feed it: the marks it left."""

from __future__ import annotations

import numpy as np

from edge_runtime.audio.sinks import ArraySink
from edge_runtime.audio.sources import ArraySource
from edge_runtime.brain.device_skill import DeviceSkill
from edge_runtime.clock import SystemClock
from edge_runtime.engines import Engines
from edge_runtime.hub import build_hub
from edge_runtime.loop import AudioLoop
from edge_runtime.settings import EdgeSettings
from edge_runtime.trace import Mark, Tracer

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
