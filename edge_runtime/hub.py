"""Assembles the voice pipeline from loaded engines and settings."""

from __future__ import annotations

from dataclasses import dataclass

from edge_runtime.app_events import PhaseEvents, TurnStream
from edge_runtime.brain.device_skill import DeviceSkill
from edge_runtime.brain.escalate import Escalator
from edge_runtime.brain.factory import brain_from
from edge_runtime.brain.memory import LocalMemory
from edge_runtime.clock import Clock
from edge_runtime.engines import Engines
from edge_runtime.peers.arbiter import Arbiter
from edge_runtime.pipeline.arbitrate import TurnOwner, WakeClaims
from edge_runtime.pipeline.bargein import SpeechBargeIn
from edge_runtime.pipeline.endpoint import Endpointer
from edge_runtime.pipeline.gate import WakeGate
from edge_runtime.pipeline.output import PlaybackOutput
from edge_runtime.pipeline.processor import Pipeline
from edge_runtime.pipeline.respond import SkillResponder
from edge_runtime.pipeline.stt import SttProcessor
from edge_runtime.pipeline.tts import TtsProcessor
from edge_runtime.pipeline.turn import TurnJudge
from edge_runtime.settings import EdgeSettings
from edge_runtime.skills.builtin import BuiltinSkills
from edge_runtime.skills.timers import TimerManager
from edge_runtime.trace import Tracer
from models.llm import LLM


@dataclass
class VoiceHub:
    pipeline: Pipeline
    output: PlaybackOutput
    responder: SkillResponder
    timers: TimerManager
    tracer: Tracer  # timings
    events: TurnStream  # what an app hears about each turn

    async def start(self) -> None:
        await self.pipeline.start()

    async def stop(self) -> None:
        await self.timers.close()
        await self.pipeline.stop()


def build_hub(
    settings: EdgeSettings,
    engines: Engines,
    clock: Clock,
    *,
    output_rate: int | None = None,
    keep_replies: bool = False,
    tracer: Tracer | None = None,
    devices: DeviceSkill | None = None,
    llm: LLM | None = None,
    cloud: Escalator | None = None,
    memory: LocalMemory | None = None,
    user_name: str | None = None,
    arbiter: Arbiter | None = None,
) -> VoiceHub:
    """`arbiter`: the home's other hubs hear the same wake word; only the one it picks answers."""
    tracer = tracer or Tracer()
    rate = output_rate or settings.output_rate

    async def ring(timer, repeat):
        await responder.ring(timer, repeat)

    timers = TimerManager(clock, ring, repeats=settings.timer_alert_repeats, interval_s=settings.timer_alert_interval_s)
    brain = brain_from(settings, BuiltinSkills(clock, timers), devices, llm, cloud, memory, user_name)
    events = TurnStream()
    tracer.listeners.append(PhaseEvents(events))
    responder = SkillResponder(brain, tracer, events, earcon=settings.earcon)
    output = PlaybackOutput(rate, tracer, keep_replies=keep_replies)
    processors = [
        SpeechBargeIn(
            engines.barge_vad,
            tracer,
            threshold=settings.vad_threshold,
            min_speech_ms=settings.barge_in_min_speech_ms,
            enabled=settings.barge_in_on_speech,
        ),
        WakeGate(engines.wake, tracer, barge_in=settings.barge_in_on_wake),
        *([WakeClaims(arbiter, tracer)] if arbiter is not None else []),
        Endpointer(
            engines.vad,
            tracer,
            threshold=settings.vad_threshold,
            trailing_silence_ms=settings.open_silence_ms
            if settings.commit_on_meaning
            else settings.trailing_silence_ms,
            max_utterance_s=settings.max_utterance_s,
            max_held_s=settings.max_held_s,
            no_speech_timeout_s=settings.no_speech_timeout_s,
            speculative=settings.speculative_stt,
        ),
        SttProcessor(
            engines.stt,
            tracer,
            judge=TurnJudge(brain.skills if brain.language == "en" else None, brain.devices)
            if settings.commit_on_meaning
            else None,
        ),
        *([TurnOwner(arbiter, events, tracer)] if arbiter is not None else []),
        responder,
        TtsProcessor(engines.tts, tracer, output_rate=rate),
        output,
    ]
    return VoiceHub(Pipeline(processors), output, responder, timers, tracer, events)
