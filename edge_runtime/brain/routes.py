"""The brain's routes, in the order a turn tries them: each has one job, and answers the turn or
passes it on (None). `Brain.handle` walks `ROUTES`; a new route is one function in this list."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from edge_runtime.brain.broadcast import broadcast
from edge_runtime.brain.comfort import propose
from edge_runtime.brain.context import Conversation, Pending
from edge_runtime.brain.escalate import CloudUnavailable
from edge_runtime.brain.replies import MONTHS, NO, WEEKDAYS, YES, say
from edge_runtime.brain.result import BrainResult, Speak
from edge_runtime.brain.signals import Signals
from edge_runtime.brain.vocab import Intent, Route
from edge_runtime.skills.builtin import normalize
from edge_runtime.skills.lists import ADDS
from edge_runtime.skills.timer_intents import TimerIntent

if TYPE_CHECKING:
    from edge_runtime.brain.router import Brain


@dataclass
class Turn:
    """One sentence on its way through the routes."""

    said: str  # as heard
    text: str  # without an "ask the cloud" prefix
    conversation: Conversation
    speak: Speak
    signals: Signals
    override: bool  # "ask the cloud ...": only the cloud may answer
    pending: Pending | None  # a risky action waiting for a yes, taken off the conversation
    last_list: str | None = None  # the list the turn before added to ("and eggs")


RouteFn = Callable[["Brain", Turn], Awaitable[BrainResult | None]]


async def confirmation(brain: Brain, turn: Turn) -> BrainResult | None:
    """ "yes" runs the held actions, "no" drops them; anything else drops them and goes on."""
    if turn.pending is None or (yes := yes_no(turn.said)) is None:
        return None
    if not yes or brain.devices is None:
        declined = BrainResult(Route.CONFIRM, turn.pending.intent, say(brain.language, "confirm_cancelled"))
        declined.signals = ["declined"]
        return await brain._said(declined, turn.speak)
    return await brain._act(
        turn.pending.matches, turn.conversation, Route.CONFIRM, ["confirmed"], {}, turn.speak, confirmed=True
    )


async def builtin(brain: Brain, turn: Turn) -> BrainResult | None:
    """Time, date, stop and timers (English); a delayed device command becomes a timer."""
    found = brain.skills.handle(turn.said) if brain.language == "en" else None
    if found is None or found.intent == "unknown":
        return None
    if found.intent == "stop" and brain.peers is not None and not found.data.get("silenced_alerts"):
        brain.peers.stop_elsewhere()  # nothing rang here: a timer set on another hub may be ringing
    if found.intent == TimerIntent.COMMAND:
        return await brain._said(await brain._later(found.data["command"], found.data["seconds"]), turn.speak)
    return await brain._said(BrainResult(Route.BUILTIN, found.intent, found.reply or "", data=found.data), turn.speak)


async def memory(brain: Brain, turn: Turn) -> BrainResult | None:
    """ "remember that ..." kept, "what do you remember about ..." recalled, on the hub."""
    if brain.memory is None or turn.override:
        return None
    fired = turn.signals.fired()
    if (item := brain.memory.remember(turn.text)) is not None:
        kept = BrainResult(Route.LOCAL_MEMORY, "remember", say(brain.language, "remembered"), signals=fired)
        kept.data = {"memory_id": item}
        return await brain._said(kept, turn.speak)
    if (recalled := brain.memory.recall(turn.text)) is not None:
        reply = say(brain.language, "recalled", text=recalled.text)
        found = BrainResult(Route.LOCAL_MEMORY, "recall", reply, signals=fired, data={"memory_id": recalled.item_id})
        return await brain._said(found, turn.speak)
    return None  # a question the memory cannot answer goes on to the cloud


async def lists(brain: Brain, turn: Turn) -> BrainResult | None:
    """The shopping list and the user's other lists, by Home Assistant's list intents; "and eggs"
    right after an item was added goes on the same list."""
    if brain.lists is None or turn.override:
        return None
    done = brain.lists.more(turn.text, turn.last_list) if turn.last_list else None
    if done is None and (done := brain.lists.handle(turn.text)) is None:
        return None
    if done.intent in ADDS and done.spoken:
        turn.conversation.last_list = done.spoken
    result = BrainResult(Route.LOCAL_INTENT, done.intent, done.reply, signals=turn.signals.fired(), data=done.data)
    return await brain._said(result, turn.speak)


async def local_intent(brain: Brain, turn: Turn) -> BrainResult | None:
    """Home Assistant's device intents over the registry, follow-ups, honest "there is no ..."."""
    if turn.override or brain.devices is None:
        return None
    return await brain._local(turn.text, turn.conversation, turn.signals, turn.speak)


async def comfort(brain: Brain, turn: Turn) -> BrainResult | None:
    """ "it's a bit dark in here": one change in the speaker's room is made (the room's one light on);
    several are proposed and made on a yes (which of three lamps is not the hub's to guess)."""
    if turn.override or brain.devices is None or brain.language != "en":
        return None
    if (proposal := propose(turn.text, brain.devices.devices.registry)) is None:
        return None
    fired = turn.signals.fired()
    data: dict[str, Any] = {"comfort": proposal.wants, "area": proposal.area}
    devices = [a.device_id for m in proposal.matches for a in m.actions]
    if len(devices) == 1:
        return await brain._act(proposal.matches, turn.conversation, Route.LOCAL_INTENT, fired, data, turn.speak)
    question = say(brain.language, "confirm_question", what=proposal.what)
    intent = "+".join(m.intent for m in proposal.matches)
    expires = time.monotonic() + brain.policy.confirm_ttl_s
    turn.conversation.pending = Pending(proposal.matches, intent, question, expires)
    asking = BrainResult(Route.LOCAL_INTENT, intent, question, signals=[*fired, "needs-confirmation"])
    asking.data = {**data, "awaiting": devices}
    return await brain._said(asking, turn.speak)


async def small_talk(brain: Brain, turn: Turn) -> BrainResult | None:
    if brain.llm is None or not turn.signals.small_talk or turn.signals.needs_cloud:
        return None
    return await brain._small_talk(turn.text, turn.conversation, turn.signals, turn.speak)


async def tool_call(brain: Brain, turn: Turn) -> BrainResult | None:
    """The small LLM with device tools, only where the sentence supports an action (guard.py)."""
    if brain.llm is None or brain.devices is None or turn.signals.beyond_devices:
        return None
    return await brain._tool(turn.text, turn.conversation, turn.signals, turn.speak)


async def cloud(brain: Brain, turn: Turn) -> BrainResult | None:
    """Everything else; says "not linked" or "offline" itself when the cloud cannot answer."""
    fired = turn.signals.fired() or ["no-local-match"]
    if brain.cloud is None:
        unlinked = BrainResult(Route.CLOUD, "escalate", say(brain.language, "not_linked"), signals=fired)
        unlinked.data = {"fallback": "CLOUD_NOT_LINKED"}
        return await brain._said(unlinked, turn.speak)
    history = [{"role": r, "text": t} for r, t in turn.conversation.history][-10:]
    started = time.perf_counter()
    try:
        stream = brain.cloud.stream([*history, {"role": "user", "text": turn.text}], cloud_context(brain))
        reply, first_ms = await brain._stream(stream, turn.speak)
    except CloudUnavailable as err:
        key = {"CLOUD_TIMEOUT": "cloud_slow", "CLOUD_NOT_LINKED": "not_linked"}.get(err.code, "offline")
        failed = BrainResult(Route.CLOUD, "escalate", say(brain.language, key), signals=fired)
        failed.data = {"fallback": err.code, "error": err.message}
        return await brain._said(failed, turn.speak)
    result = BrainResult(Route.CLOUD, "escalate", reply, signals=fired)
    result.timings_ms.update(cloud=round(1000 * (time.perf_counter() - started), 2), first_sentence=first_ms or 0.0)
    return result


ROUTES: tuple[RouteFn, ...] = (
    confirmation,
    builtin,
    broadcast,
    memory,
    lists,
    local_intent,
    comfort,
    small_talk,
    tool_call,
    cloud,
)


def cloud_context(brain: Brain) -> dict[str, Any]:
    """What the cloud is told besides the conversation: the language and the devices with their state."""
    context: dict[str, Any] = {"language": brain.language}
    if brain.devices is not None:
        context["devices"] = [
            {"name": r.name, "kind": r.device.kind.value, "area": r.area, "state": r.state}
            for r in brain.devices.devices.registry.spoken()[:50]
        ]
    return context


def yes_no(text: str) -> bool | None:
    words = normalize(text).strip(" .!")
    if words in YES or words.startswith("yes "):
        return True
    if words in NO or words.startswith("no "):
        return False
    return None


def clock_reply(now: datetime, language: str, intent: str) -> BrainResult:
    """Time and date for languages the English built-in skills do not speak."""
    if intent == Intent.GET_TIME:
        return BrainResult(Route.BUILTIN, "time", say(language, "time", hour=now.hour, minute=now.minute))
    weekday, month = WEEKDAYS[language][now.weekday()], MONTHS[language][now.month - 1]
    reply = say(language, "date", weekday=weekday, day=now.day, month=month, year=now.year)
    return BrainResult(Route.BUILTIN, "date", reply)
