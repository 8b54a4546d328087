"""Transcript -> Reply, through the brain; timers ring back through here."""

from __future__ import annotations

import time
from typing import Any

from edge_runtime.app_events import (
    AnnouncementEvent,
    ErrorEvent,
    Phase,
    ReplyEvent,
    SentenceEvent,
    StateEvent,
    TimerEvent,
    TranscriptEvent,
    TurnDoneEvent,
    TurnStream,
    decided,
)
from edge_runtime.brain.context import Conversation
from edge_runtime.brain.router import Brain
from edge_runtime.frames import Frame, Reply, Transcript
from edge_runtime.pipeline.processor import UP, Direction, QueuedProcessor
from edge_runtime.skills.timers import Timer
from edge_runtime.trace import Tracer

TROUBLE = "Sorry, I had trouble hearing that."


class SkillResponder(QueuedProcessor):
    """One conversation per voice pipeline: "it" means what was last talked about here."""

    def __init__(self, brain: Brain, tracer: Tracer, events: TurnStream | None = None, *, earcon: bool = False) -> None:
        super().__init__()
        self.brain = brain
        self.earcon = earcon  # a chime for a turn whose every action was done in this hub's room
        self.skills = brain.skills
        self.tracer = tracer
        self.events = events or TurnStream()
        self.conversation = Conversation(language=brain.language)

    async def ring(self, timer: Timer, repeat: int) -> None:
        """TimerManager's callback: speak the alert (it takes the normal reply path)."""
        self.tracer.mark("timer_alert", timer_id=timer.id, repeat=repeat)
        self.events.emit(TimerEvent(timer_id=timer.id, repeat=repeat))
        await self.push_frame(Reply(self.skills.alert_text(timer), kind="alert", data={"timer_id": timer.id}))

    async def announce(self, text: str, from_hub: str, from_room: str | None) -> None:
        """Another hub's announcement, spoken here (the normal reply path, so "stop" ends it)."""
        self.tracer.mark("announcement", from_hub=from_hub)
        self.events.emit(AnnouncementEvent(text=text, from_hub=from_hub, from_room=from_room))
        await self.push_frame(Reply(text, kind="announcement", data={"from_hub": from_hub}))

    async def process_frame(self, frame: Frame, direction: Direction) -> None:
        if direction is UP or not isinstance(frame, Transcript):
            await self.push_frame(frame, direction)
            return
        started = time.perf_counter()
        if frame.error:
            self.tracer.mark("skill", intent="error", reply=TROUBLE, data={"error": frame.error}, ms=0.0)
            self.events.emit(ErrorEvent(code=frame.error, message="speech recognition failed"))
            await self.push_frame(Reply(TROUBLE, data={"intent": "error", "error": frame.error}))
            return
        if not frame.typed:
            self.events.emit(TranscriptEvent(text=frame.text, final=frame.final, stt_ms=frame.stt_ms or None))
        spoken = False
        held: list[str] = []  # a one-sentence reply, kept until the turn's actions are known

        async def speak(sentence: str, final: bool) -> None:
            nonlocal spoken
            if not spoken:
                self.tracer.mark("reply_start", ms=round(1000 * (time.perf_counter() - started), 3))
            self.events.emit(SentenceEvent(text=sentence, final=final))
            if self.earcon and final and not spoken:
                held.append(sentence)  # the brain speaks a confirmation last: its result follows at once
            else:
                await self.push_frame(Reply(sentence, final=final))
            spoken = True

        result = await self.brain.handle(frame.text, self.conversation, speak)
        if held:
            kind = "earcon" if self._done_here(result.actions) else "answer"
            await self.push_frame(Reply(held[0], kind=kind))
        data = {"route": result.route, "signals": result.signals, "actions": result.actions, **result.data}
        self.tracer.mark(
            "skill",
            intent=result.intent,
            reply=result.reply,
            data=data,
            ms=round(1000 * (time.perf_counter() - started), 3),
        )
        self._emit_result(frame.text, result.route, result.intent, result.reply, result.actions)
        if not spoken:
            self.tracer.mark("turn_done", spoken=False)
            self.events.emit(TurnDoneEvent(spoken=False))
            self.events.emit(StateEvent(state=Phase.IDLE, reason="silent"))

    def _done_here(self, actions: list[dict[str, Any]]) -> bool:
        """Every action confirmed, on a device in this hub's room: the user can see it done."""
        devices = self.brain.devices
        registry = devices.devices.registry if devices is not None else None
        if not actions or registry is None or not registry.home_area:
            return False
        here = registry.home_area.casefold()
        for action in actions:
            record = registry.records.get(str(action.get("device")))
            if not action.get("confirmed") or record is None or (record.area or "").casefold() != here:
                return False
        return True

    def _emit_result(self, heard: str, route: str, intent: str, reply: str, actions: list[dict[str, Any]]) -> None:
        for event in decided(route, intent, actions):
            self.events.emit(event)
        self.events.emit(
            ReplyEvent(text=reply, heard=heard, intent=str(intent), route=str(route), actions=actions or None)
        )
        if not reply:
            self.events.emit(StateEvent(state=Phase.IDLE, reason="no-reply"))
