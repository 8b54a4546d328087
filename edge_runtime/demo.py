"""The hub demo on embedded defaults: a short conversation, spoken and answered offline.

Requests are synthesized with the hub's own voice (no microphone needed), mixed into one
recording with pauses, and run through the same pipeline `companion hub up` runs.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from edge_runtime.app import HubApp, HubOptions, isolated
from edge_runtime.app_events import ReplyEvent, TranscriptEvent
from edge_runtime.audio.convert import resample, to_int16
from edge_runtime.audio.sinks import WavSink
from edge_runtime.audio.sources import RATE, ArraySource
from edge_runtime.engines import Engines
from edge_runtime.hub import VoiceHub
from edge_runtime.loop import AudioLoop
from edge_runtime.settings import EdgeSettings
from edge_runtime.trace import Mark

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
        chunk = [
            silence(RATE // 2, np.float32),
            wake,
            silence(int(0.3 * RATE), np.float32),
            speak(engines, request),
            silence(4 * RATE, np.float32),
        ]
        starts.append(cursor)
        cursor += sum(len(c) for c in chunk)
        parts.extend(chunk)
    recording = np.concatenate(parts)
    out_dir.mkdir(parents=True, exist_ok=True)
    mic = WavSink(out_dir / "demo-input.wav", RATE)
    # Clipped as the hub's own input is (ArraySource): resampled speech overshoots 1.0 a little,
    # and a plain cast would wrap those samples into full-scale clicks the hub never heard.
    mic.write(to_int16(recording))
    mic.close()

    turns: list[DemoTurn] = []
    with tempfile.TemporaryDirectory() as tmp:  # a hub of its own: the user's models, none of their data
        options = HubOptions(devices=False, sync=False, identity=False, vision=False)
        async with HubApp(isolated(settings, Path(tmp)), engines=engines, options=options) as app:
            assert app.voice is not None
            await _play(app.voice, recording, out_dir, script, turns, on_turn)
    return turns


async def _play(
    hub: VoiceHub,
    recording: np.ndarray,
    out_dir: Path,
    script: tuple[str, ...],
    turns: list[DemoTurn],
    on_turn: Callable[[DemoTurn], Any] | None,
) -> None:
    """Play the recording to the hub and collect each turn from its timings."""
    speaker = WavSink(out_dir / "demo-hub.wav", hub.output.rate)
    pending: dict[str, Any] = {}

    def heard(event: object) -> None:  # what was said and answered: the turn's typed events
        if isinstance(event, TranscriptEvent) and "transcript" not in pending:
            pending["transcript"] = event.text
        elif isinstance(event, ReplyEvent):
            request = script[len(turns)] if len(turns) < len(script) else "?"
            pending.update(intent=event.intent, reply=event.text, request=request)

    def timed(mark: Mark) -> None:  # how long it took: the tracer's timings
        if mark.event in ("committed", "endpoint") and "speech_end" not in pending:
            pending["speech_end"] = mark.wall  # the turn's end as the hub judged it: at a pause, or the endpoint
        elif mark.event == "first_audio" and "speech_end" in pending and "latency" not in pending:
            pending["latency"] = round(1000 * (mark.wall - pending["speech_end"]), 1)
        elif mark.event == "turn_done" and "intent" in pending:
            turn = DemoTurn(
                pending["request"],
                pending.get("transcript"),
                pending.get("reply"),
                pending.get("intent"),
                pending.get("latency"),
            )
            turns.append(turn)
            pending.clear()
            if on_turn:
                on_turn(turn)

    hub.events.listeners.append(heard)
    hub.tracer.listeners.append(timed)
    loop = AudioLoop(hub, speaker, lockstep=True)
    try:
        await loop.run(ArraySource(recording).blocks())
        await loop.finish()
    finally:
        speaker.close()
