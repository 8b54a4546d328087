"""Drives a real hub (real models) over in-memory audio, for pipeline-level tests."""

from __future__ import annotations

from typing import Any

import numpy as np

from edge_runtime.app_events import ReplyEvent
from edge_runtime.audio.sinks import ArraySink
from edge_runtime.audio.sources import ArraySource
from edge_runtime.clock import Clock
from edge_runtime.engines import Engines
from edge_runtime.hub import VoiceHub, build_hub
from edge_runtime.loop import AudioLoop
from edge_runtime.settings import EdgeSettings
from edge_runtime.trace import Tracer
from tests.speech import silence


class HubHarness:
    def __init__(
        self, settings: EdgeSettings, engines: Engines, clock: Clock, *, realtime: bool = False, rate: int = 16000
    ) -> None:
        engines.wake.reset()
        self.tracer = Tracer()
        self.hub: VoiceHub = build_hub(settings, engines, clock, output_rate=rate, tracer=self.tracer)
        self.heard: list[Any] = []  # the turns' typed events, as an app receives them
        self.hub.events.listeners.append(self.heard.append)
        self.speaker = ArraySink(rate)
        self.loop = AudioLoop(self.hub, self.speaker, realtime=realtime, lockstep=not realtime)

    async def __aenter__(self) -> HubHarness:
        await self.hub.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.hub.stop()

    async def feed(self, audio: np.ndarray, *, tail_s: float = 1.0) -> None:
        await self.loop.run(ArraySource(np.concatenate([audio, silence(tail_s)])).blocks())

    async def idle(self, seconds: float) -> None:
        await self.feed(silence(seconds), tail_s=0.0)

    def replies(self) -> list[str]:
        return [e.text for e in self.heard if isinstance(e, ReplyEvent) and e.text]

    def events(self, name: str) -> list[dict[str, Any]]:
        """The tracer's timing marks called `name` (what happened comes from `heard`)."""
        return [m.data for m in self.tracer.all(name)]
