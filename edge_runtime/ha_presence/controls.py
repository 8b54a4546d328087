"""What Home Assistant can change on the hub: mute the microphone, the speaker's volume, the wake word.

Mute feeds the pipeline silence instead of the microphone, so neither the wake word nor speech
barge-in can fire; volume scales what reaches the speaker; a new wake word is loaded on a worker
thread and swapped into the running wake gate between two audio blocks.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import numpy as np

from edge_runtime.audio.sinks import AudioSink
from edge_runtime.hub import VoiceHub
from edge_runtime.pipeline.gate import WakeGate
from edge_runtime.settings import EdgeSettings
from models.registry import Registry


class Controls:
    def __init__(self, settings: EdgeSettings, registry: Registry | None, hub: VoiceHub | None) -> None:
        self.settings, self.registry, self.hub = settings, registry, hub
        self.muted = False
        self.volume = 100
        self.wake_word = settings.wake_word

    async def muteable(self, blocks: AsyncIterator[np.ndarray]) -> AsyncIterator[np.ndarray]:
        """The microphone's blocks, or silence of the same length while muted (the audio clock keeps time)."""
        async for block in blocks:
            yield np.zeros_like(block) if self.muted else block

    def sink(self, sink: AudioSink) -> AudioSink:
        return VolumeSink(sink, self)

    def set_volume(self, percent: int) -> None:
        self.volume = max(0, min(100, percent))

    async def set_wake_word(self, word: str) -> None:
        """Load the new model off the loop, then swap it in; the old one is dropped."""
        if word == self.wake_word or self.registry is None or self.hub is None:
            self.wake_word = word
            return
        from models.wake import OpenWakeWord

        registry, threshold = self.registry, self.settings.wake_threshold
        wake = await asyncio.to_thread(lambda: OpenWakeWord(registry, (word,), threshold=threshold))
        for processor in self.hub.pipeline.processors:
            if isinstance(processor, WakeGate):
                processor.wake = wake
        self.wake_word = word


class VolumeSink:
    """An AudioSink that scales int16 audio by the hub's volume before the real sink."""

    def __init__(self, inner: AudioSink, controls: Controls) -> None:
        self.inner, self.controls = inner, controls
        self.rate = inner.rate

    def write(self, pcm: np.ndarray) -> None:
        volume = self.controls.volume
        if volume < 100:
            pcm = (pcm.astype(np.float32) * (volume / 100)).astype(np.int16)
        self.inner.write(pcm)

    def close(self) -> None:
        self.inner.close()
