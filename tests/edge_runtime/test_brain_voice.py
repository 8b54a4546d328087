"""A streamed reply through the voice pipeline: TTS speaks the first sentence while the model is
still writing, and the turn ends once, after the last sentence."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from edge_runtime.frames import Transcript
from edge_runtime.hub import build_hub
from edge_runtime.trace import Tracer
from tests.fakes.clock import FakeClock
from tests.fakes.llm import FakeLLM


def test_streamed_small_talk_reaches_tts_sentence_by_sentence(settings, engines) -> None:  # type: ignore[no-untyped-def]
    llm = FakeLLM(fake_text="Good morning to you. I hope you slept well.", piece_delay_s=0.08)

    async def scenario() -> Tracer:
        tracer = Tracer()
        hub = build_hub(
            settings,
            engines,
            FakeClock(datetime(2026, 11, 25, 8, tzinfo=UTC)),
            tracer=tracer,
            keep_replies=True,
            llm=llm,
        )
        await hub.start()
        try:
            await hub.pipeline.push(Transcript("good morning"))
            for _ in range(400):
                if tracer.last("turn_done") is not None:
                    break
                await asyncio.sleep(0.01)
        finally:
            await hub.stop()
        return tracer

    tracer = asyncio.run(scenario())
    events = [m.event for m in tracer.marks]
    assert events.count("tts_start") == 1 and events.count("tts_done") == 1 and events.count("turn_done") == 1
    first_audio = tracer.last("tts_first_audio")
    assert first_audio is not None and first_audio.wall < llm.piece_times[-1]  # spoke before the model finished
    skill = tracer.last("skill")
    assert skill is not None and skill.data["data"]["route"] == "local-llm"
    assert skill.data["reply"] == "Good morning to you. I hope you slept well."
