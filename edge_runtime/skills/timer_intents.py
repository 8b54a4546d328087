"""Timers by Home Assistant's timer intents (HassStartTimer, HassCancelTimer, HassCancelAllTimers,
HassIncreaseTimer, HassDecreaseTimer, HassPauseTimer, HassUnpauseTimer, HassTimerStatus), their
sentence templates and hassil's own numbers: "one and a half hours", "1/2 a minute", "2 hours and
5 minutes". "Add 5 minutes to my timer" lengthens the timer; it never starts a new one.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from enum import StrEnum
from pathlib import Path
from typing import Any

import yaml

from edge_runtime.skills.numbers import parse_duration, say_duration, timer_label
from edge_runtime.skills.timers import Timer, TimerManager

TIMER_INTENTS = (
    "HassStartTimer",
    "HassCancelTimer",
    "HassCancelAllTimers",
    "HassIncreaseTimer",
    "HassDecreaseTimer",
    "HassPauseTimer",
    "HassUnpauseTimer",
    "HassTimerStatus",
)
MAX_SECONDS = 24 * 3600
_NAMED = re.compile(r"\b(?:named|called|labell?ed)\s+(.+)$")


class TimerIntent(StrEnum):
    """The skill's intent names, as `BrainResult.intent` and scripts report them."""

    SET = "timer-set"
    COMMAND = "timer-command"  # "turn off the lights in 5 minutes": the brain checks and schedules it
    CANCEL = "timer-cancel"
    STATUS = "timer-remaining"
    ADD = "timer-add"
    REMOVE = "timer-remove"
    PAUSE = "timer-pause"
    RESUME = "timer-resume"


KINDS = {
    "HassStartTimer": TimerIntent.SET,
    "HassCancelTimer": TimerIntent.CANCEL,
    "HassCancelAllTimers": TimerIntent.CANCEL,
    "HassIncreaseTimer": TimerIntent.ADD,
    "HassDecreaseTimer": TimerIntent.REMOVE,
    "HassPauseTimer": TimerIntent.PAUSE,
    "HassUnpauseTimer": TimerIntent.RESUME,
    "HassTimerStatus": TimerIntent.STATUS,
}


MAX_NAME_WORDS = 5


def timer_name(said: object) -> str | None:
    """A timer's name as said, the way it is kept and looked up: "the Pasta " and "pasta timer" are "pasta"."""
    words = str(said or "").casefold().split()
    while words and words[0] in ("the", "my", "a", "an", "our"):
        words = words[1:]
    while words and words[-1] in ("timer", "timers"):
        words = words[:-1]
    if len(words) > MAX_NAME_WORDS:  # a misheard ramble is not a name to keep and say back at every alert
        return None
    return " ".join(words) or None


def _seconds(slots: dict[str, Any], prefix: str = "") -> int:
    total = 0.0
    for unit, size in (("hours", 3600), ("minutes", 60), ("seconds", 1)):
        if slots.get(prefix + unit) is not None:
            total += float(slots[prefix + unit]) * size
    return round(total)


class TimerSkill:
    """Recognises timer sentences with hassil and runs them on a `TimerManager`."""

    def __init__(
        self,
        timers: TimerManager,
        *,
        areas: Callable[[], Iterable[str]] = tuple,
        here: Callable[[], str | None] = lambda: None,
        language: str = "en",
    ) -> None:
        from hassil import Intents
        from hassil.util import merge_dict
        from home_assistant_intents import get_intents

        data = get_intents(language) or get_intents("en")
        assert data is not None
        ours = Path(__file__).with_name(f"timers_{language}.yaml")
        if ours.exists():
            merge_dict(data, yaml.safe_load(ours.read_text()))
        data["intents"] = {k: v for k, v in data["intents"].items() if k in TIMER_INTENTS}
        self.intents = Intents.from_dict(data)
        self.timers, self.areas, self.here, self.language = timers, areas, here, language
        self.recognize("warm up")

    def recognize(self, text: str) -> tuple[str, dict[str, Any]] | None:
        from hassil import recognize_best
        from hassil.intents import SlotList, TextSlotList

        areas = [(a.lower(), a) for a in self.areas()] or [("nowhere", "")]
        lists: dict[str, SlotList] = {"area": TextSlotList.from_tuples(areas)}
        result = recognize_best(text, self.intents, slot_lists=lists, language=self.language)
        if result is None:
            return None
        slots = {k: (v.text.strip() if v.is_wildcard else v.value) for k, v in result.entities.items()}
        return result.intent.name, {**slots, "_combination": (result.intent_metadata or {}).get("slot_combination")}

    def intent_of(self, text: str) -> TimerIntent | None:
        found = self.recognize(text)
        if found is not None:
            return TimerIntent.COMMAND if "conversation_command" in found[1] else KINDS[found[0]]
        return TimerIntent.SET if "timer" in text.split() and parse_duration(text) else None

    def handle(self, text: str) -> tuple[TimerIntent, str | None, dict[str, Any]] | None:
        found = self.recognize(text)
        if found is None:
            seconds = parse_duration(text) if "timer" in text.split() else None
            named = _NAMED.search(text)  # "another timer for two and a half minutes called rice"
            slots = {"name": named.group(1)} if named and not parse_duration(named.group(1)) else {}
            return self._start(slots, seconds) if seconds else None  # "a timer for 2 days": said how long
        intent, slots = found
        if intent == "HassStartTimer":
            return self._start(slots, _seconds(slots))
        if intent == "HassCancelAllTimers":
            cancelled = self.timers.cancel()
            reply = f"Cancelled {len(cancelled)} timers." if len(cancelled) != 1 else "Cancelled your timer."
            return (
                TimerIntent.CANCEL,
                reply if cancelled else "There's no timer to cancel.",
                {"cancelled": len(cancelled)},
            )
        chosen = self._targets(slots)
        if intent == "HassTimerStatus":
            if not chosen and (missing := self._none(slots)):
                return TimerIntent.STATUS, missing, {}
            return TimerIntent.STATUS, *self._status(chosen)
        if intent == "HassCancelTimer" and not chosen:
            silenced = self.timers.silence()
            reply = "Okay, the alarm is off." if silenced else self._none(slots) or "There's no timer to cancel."
            return TimerIntent.CANCEL, reply, {"cancelled": 0}
        if not chosen:
            return KINDS[intent], self._none(slots) or "You have no timers running.", {}
        if len(chosen) > 1:
            same = len({t.label for t in chosen}) < len(chosen)  # two pizza timers: say how long each was
            names = " or ".join(
                f"the {timer_label(t.seconds) + ' ' if same else ''}{t.label} timer" for t in chosen[:3]
            )
            return KINDS[intent], f"Which timer do you mean: {names}?", {"timers": [t.id for t in chosen]}
        return self._one(intent, chosen[0], slots)

    def _start(self, slots: dict[str, Any], seconds: int | None) -> tuple[TimerIntent, str | None, dict[str, Any]]:
        if not seconds:
            return TimerIntent.SET, "For how long? Say, for example, set a timer for ten minutes.", {}
        if seconds > MAX_SECONDS:
            return TimerIntent.SET, "Timers can run for up to one day.", {"seconds": seconds}
        if slots.get("conversation_command"):
            return TimerIntent.COMMAND, None, {"command": str(slots["conversation_command"]), "seconds": seconds}
        name = timer_name(slots.get("name"))
        area = str(slots["area"]) if slots.get("area") else self.here()
        timer = self.timers.start(seconds, name=name, area=area)
        what = f"{name.capitalize()} timer" if name else "Timer"
        return TimerIntent.SET, f"{what} set for {say_duration(seconds)}.", {"timer_id": timer.id, "seconds": seconds}

    def _targets(self, slots: dict[str, Any]) -> list[Timer]:
        """The timers a request means, by name ("the pasta timer"), room or the time they were set for."""
        name, area, started = timer_name(slots.get("name")), slots.get("area"), _seconds(slots, "start_")
        chosen = self.timers.find(name=name, area=area, seconds=started or None)
        if not chosen and name:  # "the kitchen timer": a room, said where a name may be
            chosen = self.timers.find(area=name, seconds=started or None)
        return chosen

    def _none(self, slots: dict[str, Any]) -> str | None:
        """ "There's no pasta timer.": the timer asked for by name, room or length is not running
        (while others are), or None when no particular timer was asked for, or none runs."""
        started = _seconds(slots, "start_")
        what = timer_name(slots.get("name")) or slots.get("area") or (timer_label(started) if started else None)
        if what is None or not self.timers.active():
            return None
        return f"There's no {what} timer."

    def _status(self, chosen: list[Timer]) -> tuple[str, dict[str, Any]]:
        if not chosen:
            return "You have no timers running.", {}
        parts = [(t, round(self.timers.remaining(t))) for t in chosen]
        data = {"timers": [{"id": t.id, "remaining_s": left, "paused": t.paused} for t, left in parts]}
        if len(parts) == 1:
            paused = " It's paused." if parts[0][0].paused else ""
            return f"{say_duration(parts[0][1]).capitalize()} left.{paused}", data
        spoken = "; ".join(f"your {t.label} timer has {say_duration(left)} left" for t, left in parts)
        return spoken[0].upper() + spoken[1:] + ".", data

    def _one(self, intent: str, timer: Timer, slots: dict[str, Any]) -> tuple[TimerIntent, str | None, dict[str, Any]]:
        data: dict[str, Any] = {"timer_id": timer.id}
        if intent == "HassCancelTimer":
            self.timers.cancel([timer])
            return TimerIntent.CANCEL, f"Cancelled your {timer.label} timer.", {**data, "cancelled": 1}
        if intent in ("HassIncreaseTimer", "HassDecreaseTimer"):
            change = _seconds(slots)
            sign = 1 if intent == "HassIncreaseTimer" else -1
            self.timers.add(timer, sign * change)
            data["remaining_s"] = round(self.timers.remaining(timer))
            said = say_duration(change)
            reply = f"Added {said} to" if sign > 0 else f"Took {said} off"
            return KINDS[intent], f"{reply} your {timer.label} timer.", data
        if intent == "HassPauseTimer":
            done = self.timers.pause(timer)
            return TimerIntent.PAUSE, f"{'Paused' if done else 'Already paused:'} your {timer.label} timer.", data
        done = self.timers.resume(timer)
        return TimerIntent.RESUME, f"{'Resumed' if done else 'Still running:'} your {timer.label} timer.", data
