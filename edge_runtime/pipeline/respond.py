"""Transcript -> Reply, through the built-in skills; timers ring back through here."""

from __future__ import annotations

import time

from edge_runtime.brain.device_skill import DeviceSkill
from edge_runtime.frames import Frame, Reply, Transcript
from edge_runtime.pipeline.processor import UP, Direction, QueuedProcessor
from edge_runtime.skills.builtin import BuiltinSkills
from edge_runtime.skills.timers import Timer
from edge_runtime.trace import Tracer

TROUBLE = "Sorry, I had trouble hearing that."


class SkillResponder(QueuedProcessor):
    def __init__(self, skills: BuiltinSkills, tracer: Tracer, devices: DeviceSkill | None = None) -> None:
        super().__init__()
        self.skills = skills
        self.tracer = tracer
        self.devices = devices

    async def ring(self, timer: Timer, repeat: int) -> None:
        """TimerManager's callback: speak the alert (it takes the normal reply path)."""
        self.tracer.mark("timer_alert", timer_id=timer.id, repeat=repeat)
        await self.push_frame(Reply(self.skills.alert_text(timer), kind="alert", data={"timer_id": timer.id}))

    async def process_frame(self, frame: Frame, direction: Direction) -> None:
        if direction is UP or not isinstance(frame, Transcript):
            await self.push_frame(frame, direction)
            return
        started = time.perf_counter()
        reply: str | None
        if frame.error:
            intent, reply, data = "error", TROUBLE, {"error": frame.error}
        else:
            result = self.skills.handle(frame.text)
            if result.intent == "unknown" and self.devices is not None:
                result = await self.devices.handle(frame.text) or result
            intent, reply, data = result.intent, result.reply, result.data
        self.tracer.mark(
            "skill", intent=intent, reply=reply, data=data, ms=round(1000 * (time.perf_counter() - started), 3)
        )
        if reply:
            await self.push_frame(Reply(reply, data={"intent": intent, **data}))
        else:
            self.tracer.mark("turn_done", spoken=False)
