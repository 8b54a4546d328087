"""The brain's device routes: local intents (with follow-ups and honest "there is no ..."),
acting on devices with the confirmation policy, and delayed commands. A mixin of `Brain`, which
owns the state and the speaking."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from edge_runtime.brain.context import Conversation, Pending
from edge_runtime.brain.intents import BUILTIN_INTENTS, IntentMatch
from edge_runtime.brain.replies import WEEKDAYS, say
from edge_runtime.brain.result import ActionOutcome, BrainPolicy, BrainResult, Speak
from edge_runtime.brain.routes import clock_reply
from edge_runtime.brain.safety import needs_confirmation
from edge_runtime.brain.signals import Signals
from edge_runtime.brain.vocab import CLOCK_INTENTS, Route
from edge_runtime.skills.numbers import say_duration
from edge_runtime.skills.timer_intents import TimerIntent
from edge_runtime.skills.timers import Timer

if TYPE_CHECKING:
    from edge_runtime.brain.device_skill import DeviceSkill
    from edge_runtime.brain.followups import FollowUps
    from edge_runtime.skills.builtin import BuiltinSkills


class DeviceRoutes:
    devices: DeviceSkill | None
    followups: FollowUps | None
    skills: BuiltinSkills
    policy: BrainPolicy
    language: str

    if TYPE_CHECKING:

        async def _said(self, result: BrainResult, speak: Speak) -> BrainResult: ...

        async def handle(
            self, text: str, conversation: Conversation | None = None, speak: Speak = ...
        ) -> BrainResult: ...

    async def _local(self, text: str, conversation: Conversation, signals: Signals, speak: Speak) -> BrainResult | None:
        assert self.devices is not None and self.followups is not None
        started = time.perf_counter()
        matches = self.devices.match(text)
        if matches is None and (follow := self.followups.resolve(text, conversation)) is not None:
            matches = [follow]
        if matches is None and (explained := self.devices.explain(text)) is not None:
            matches = [explained]  # "There is no lock in the Kitchen", media, scenes: nothing to do, said so
        intent_ms = round(1000 * (time.perf_counter() - started), 2)
        if matches is None:
            return None
        first = matches[0]
        if first.intent in CLOCK_INTENTS and self.language in WEEKDAYS:
            return await self._said(clock_reply(self.skills.clock.now(), self.language, first.intent), speak)
        if first.intent in BUILTIN_INTENTS or first.confidence < self.policy.min_confidence:
            return None  # a time question in another language, an unsure fuzzy match
        if first.reply is None and not first.supported:
            return None  # the weather, a shopping list: not the hub's
        fired = [*signals.fired(), *(["fuzzy"] if first.confidence < 1 else [])]
        data = {"intent_ms": intent_ms, "confidence": first.confidence, "heard_as": first.heard_as}
        if first.reply is not None:  # nothing to do, said honestly: "There is no lock in the Kitchen."
            data["problem"] = first.problem
            return await self._said(
                BrainResult(Route.LOCAL_INTENT, first.intent, first.reply, signals=fired, data=data), speak
            )
        if first.query:
            answer = self.devices.answer(first)
            # "is the porch light on?" ... "turn it off": the device asked about is the one meant next.
            conversation.acted(first.intent, first.slots, [r.id for r in first.query])
            return await self._said(
                BrainResult(
                    "local-intent", first.intent, answer.reply or "", signals=fired, data={**data, **answer.data}
                ),
                speak,
            )
        if not any(m.actions for m in matches):
            nothing = self.devices.nothing(first)
            return await self._said(
                BrainResult(Route.LOCAL_INTENT, first.intent, nothing.reply or "", signals=fired, data=data), speak
            )
        return await self._act(matches, conversation, Route.LOCAL_INTENT, fired, data, speak)

    async def _act(
        self,
        matches: list[IntentMatch],
        conversation: Conversation,
        route: str,
        fired: list[str],
        data: dict[str, Any],
        speak: Speak,
        *,
        confirmed: bool = False,
    ) -> BrainResult:
        assert self.devices is not None
        records = self.devices.devices.registry.records
        classes = frozenset() if confirmed else self.policy.confirm_classes
        ask = needs_confirmation(
            records, [a for m in matches for a in m.actions], classes, every_action=self.policy.confirm_all_actions
        )
        intent = "+".join(m.intent for m in matches)
        if ask:
            what = " and ".join(say(self.language, verb, name=a.name) for a, verb in ask)
            question = say(self.language, "confirm_question", what=what)
            conversation.pending = Pending(matches, intent, question, time.monotonic() + self.policy.confirm_ttl_s)
            awaiting = {**data, "awaiting": [a.device_id for a, _ in ask]}
            asking = BrainResult(route, intent, question, signals=[*fired, "needs-confirmation"], data=awaiting)
            return await self._said(asking, speak)
        result = await self.devices.act(matches)
        outcomes = [ActionOutcome.from_record(a) for a in result.data["actions"]]
        done = [o.device for o in outcomes if o.confirmed]
        conversation.acted(matches[-1].intent, matches[-1].slots, [a.device_id for a in matches[-1].actions])
        out = BrainResult(
            route,
            intent,
            result.reply or "",
            [o.to_dict() for o in outcomes],
            fired,
            {**data, "actions_ms": result.data["actions_ms"], "confirmed": done},
        )
        out.timings_ms["actions"] = result.data["actions_ms"]
        return await self._said(out, speak)

    async def _later(self, command: str, seconds: int) -> BrainResult:
        """ "turn off the lights in 5 minutes": a timer that runs the command, if it is one the hub
        would run now, and not one that needs a yes (nobody may be there to give it)."""
        matches = self.devices.match(command) if self.devices is not None else None
        planned = [a for m in matches or [] for a in m.actions]
        if not planned or any(m.reply is not None for m in matches or []):
            reply = say(self.language, "not_later", command=command)
            return BrainResult(Route.BUILTIN, TimerIntent.COMMAND, reply, data={"problem": "NOT_A_COMMAND"})
        assert self.devices is not None
        records = self.devices.devices.registry.records
        risky = needs_confirmation(records, planned, self.policy.confirm_classes, every_action=True)
        if risky:
            what = " and ".join(say(self.language, verb, name=a.name) for a, verb in risky)
            reply = say(self.language, "not_later_risky", what=what)
            return BrainResult(Route.BUILTIN, TimerIntent.COMMAND, reply, data={"problem": "NEEDS_CONFIRMATION"})
        timer = self.skills.timers.start(seconds, command=command)
        reply = say(self.language, "later", command=command, when=say_duration(seconds))
        data = {"timer_id": timer.id, "seconds": seconds, "command": command}
        return BrainResult(Route.BUILTIN, TimerIntent.COMMAND, reply, data=data)

    async def _run_later(self, timer: Timer) -> None:
        """A delayed command's time has come: it runs as a turn of its own."""
        assert timer.command is not None
        await self.handle(timer.command, Conversation(id=f"timer-{timer.id}", language=self.language))
