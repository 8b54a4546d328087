"""The hub demo on embedded defaults: a short conversation, spoken and answered offline.

Requests are synthesized with the hub's own voice (no microphone needed), mixed into one
recording with pauses, and run through the same pipeline `companion hub up` runs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from edge_runtime.audio.convert import resample
from edge_runtime.audio.sinks import WavSink
from edge_runtime.audio.sources import RATE, ArraySource
from edge_runtime.clock import SystemClock
from edge_runtime.engines import Engines
from edge_runtime.hub import build_hub
from edge_runtime.loop import AudioLoop
from edge_runtime.settings import EdgeSettings

SCRIPT = (
    "What time is it?",
    "What's the date today?",
    "Set a timer for ten minutes.",
    "How much time is left on the timer?",
    "Cancel the timer.",
    "Book me a flight to Paris.",
)


@dataclass
class DemoTurn:
    request: str
    transcript: str | None
    reply: str | None
    intent: str | None
    endpoint_to_first_audio_ms: float | None


def speak(engines: Engines, text: str) -> np.ndarray:
    return resample(engines.tts.synthesize_all(text), engines.tts.sample_rate, RATE)


async def run_demo(
    settings: EdgeSettings,
    engines: Engines,
    out_dir: Path,
    *,
    wake_phrase: str = "Hey Jarvis.",
    script: tuple[str, ...] = SCRIPT,
    on_turn: Callable[[DemoTurn], Any] | None = None,
) -> list[DemoTurn]:
    """Each request: 0.5 s pause, wake phrase, 0.3 s pause, request, then 4 s for the answer."""
    silence = np.zeros
    wake = speak(engines, wake_phrase)
    parts, starts = [], []
    cursor = 0
    for request in script:
        chunk = [silence(RATE // 2, np.float32), wake, silence(int(0.3 * RATE), np.float32),
                 speak(engines, request), silence(4 * RATE, np.float32)]  # fmt: skip
        starts.append(cursor)
        cursor += sum(len(c) for c in chunk)
        parts.extend(chunk)
    recording = np.concatenate(parts)
    out_dir.mkdir(parents=True, exist_ok=True)
    mic = WavSink(out_dir / "demo-input.wav", RATE)
    mic.write((recording * 32767).astype(np.int16))
    mic.close()

    hub = build_hub(settings, engines, SystemClock(settings.timezone))
    speaker = WavSink(out_dir / "demo-hub.wav", hub.output.rate)
    turns: list[DemoTurn] = []
    pending: dict[str, Any] = {}

    def collect(mark) -> None:
        if mark.event == "stt":
            pending["transcript"] = mark.data["text"]
        elif mark.event == "endpoint":
            pending["endpoint"] = mark.wall
        elif mark.event == "first_audio" and "endpoint" in pending:
            pending["latency"] = round(1000 * (mark.wall - pending["endpoint"]), 1)
        elif mark.event == "skill":
            request = script[len(turns)] if len(turns) < len(script) else "?"
            pending.update(intent=mark.data["intent"], reply=mark.data["reply"], request=request)
        elif mark.event == "turn_done" and "intent" in pending:
            turn = DemoTurn(pending["request"], pending.get("transcript"), pending.get("reply"),
                            pending.get("intent"), pending.get("latency"))  # fmt: skip
            turns.append(turn)
            pending.clear()
            if on_turn:
                on_turn(turn)

    hub.tracer.listeners.append(collect)
    loop = AudioLoop(hub, speaker, lockstep=True)
    await hub.start()
    try:
        await loop.run(ArraySource(recording).blocks())
        await loop.finish()
    finally:
        await hub.stop()
        speaker.close()
    return turns
