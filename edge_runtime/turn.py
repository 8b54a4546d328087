"""One whole voice turn over a recording: wake, endpoint, STT, skill, TTS (`companion listen`)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from edge_runtime.clock import Clock
from edge_runtime.engines import Engines
from edge_runtime.frames import EndOfStream, StartListening
from edge_runtime.hub import build_hub
from edge_runtime.loop import AudioLoop
from edge_runtime.settings import EdgeSettings
from edge_runtime.trace import Tracer


@dataclass
class TurnResult:
    record: dict[str, Any]
    reply_audio: np.ndarray
    reply_rate: int


def _turn_record(tracer: Tracer, reply_audio: np.ndarray, rate: int, audio_s: float) -> dict[str, Any]:
    wake = tracer.last("wake")
    endpoint = tracer.last("endpoint")
    stt = tracer.last("stt")
    skill = tracer.last("skill")
    timings: dict[str, float | None] = {
        "stt_ms": stt.data["ms"] if stt else None,
        "skill_ms": skill.data["ms"] if skill else None,
        "tts_first_audio_ms": tracer.between_ms("tts_start", "tts_first_audio"),
        "tts_total_ms": tracer.between_ms("tts_start", "tts_done"),
        # A command acted on at a short pause (#18) is decided before the endpoint: time it from there.
        "endpoint_to_first_audio_ms": tracer.between_ms(
            "committed" if tracer.last("committed") else "endpoint", "first_audio"
        ),
    }
    return {
        "type": "turn",
        "wake": {"name": wake.data["name"], "score": wake.data["score"], "time_s": wake.data["t"]} if wake else None,
        "speech": {
            "end_s": endpoint.data["speech_end_t"],
            "endpoint": endpoint.data["reason"],
            "utterance_s": endpoint.data["utterance_s"],
        }
        if endpoint
        else None,
        "transcript": stt.data["text"] if stt else None,
        "intent": skill.data["intent"] if skill else None,
        "reply": skill.data["reply"] if skill else None,
        "data": skill.data["data"] if skill else {},
        "error": stt.data.get("error") if stt else None,
        "timings_ms": timings,
        "audio_s": round(audio_s, 3),
        "reply_audio_s": round(len(reply_audio) / rate, 3),
    }


async def run_turn(
    settings: EdgeSettings,
    engines: Engines,
    clock: Clock,
    blocks: AsyncIterator[np.ndarray],
    *,
    use_wake: bool = True,
    output_rate: int | None = None,
) -> TurnResult:
    """Runs until the first reply is complete. No wake word heard: 'I didn't catch that'."""
    tracer = Tracer()
    hub = build_hub(settings, engines, clock, output_rate=output_rate, keep_replies=True, tracer=tracer)
    loop = AudioLoop(hub, sink=None, lockstep=True)
    engines.wake.reset()
    await hub.start()
    try:
        if not use_wake:
            await hub.pipeline.push(StartListening())
        await loop.run(blocks, until=lambda: tracer.last("turn_done") is not None)
        if tracer.last("turn_done") is None:
            if tracer.last("endpoint") is None and tracer.last("wake") is None:
                await hub.pipeline.push(StartListening())  # nothing heard: answer "didn't catch that"
            await hub.pipeline.push(EndOfStream())
            await hub.pipeline.wait_idle()
        reply = np.concatenate(hub.output.replies) if hub.output.replies else np.zeros(0, dtype=np.int16)
        return TurnResult(_turn_record(tracer, reply, hub.output.rate, loop.t), reply, hub.output.rate)
    finally:
        await hub.stop()
