"""The hub's built-in skills: time, date, timers, alarms, reminders, "stop", sums and unit
conversions, days until a date and spelling. Deterministic, no model needed."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from edge_runtime.clock import Clock
from edge_runtime.skills.alarms import AlarmSkill
from edge_runtime.skills.calculator import Calculator, spell_symbols
from edge_runtime.skills.dates import DaysUntil
from edge_runtime.skills.reminders import ReminderSkill
from edge_runtime.skills.spelling import spell, spelled
from edge_runtime.skills.timer_intents import TimerIntent, TimerSkill
from edge_runtime.skills.timers import Timer, TimerManager

NO_SPEECH = "Sorry, I didn't catch that."
CANNOT = "Sorry, I can't do that yet."

_WAKE_PREFIX = re.compile(r"^(?:hey|hi|okay|ok)?\s*(?:jarvis|alexa|mycroft|rhasspy)\b[\s,]*")
_WAKE_PREFIX_SAID = re.compile(r"^\s*(?:(?:hey|hi|okay|ok)[\s,]+)?(?:jarvis|alexa|mycroft|rhasspy)\b[\s,.!]*", re.I)
_STOP = re.compile(
    r"^(?:stop|stop it|stop that|be quiet|quiet|silence|shut up|enough|that's enough|"
    r"never ?mind|cancel|cancel that|okay stop|ok stop|please stop|stop please)$"
)
_TIME = re.compile(r"\b(?:what(?:'s| is)? (?:the )?time|time is it|tell me the time|current time|the time please)\b")
_DATE = re.compile(
    r"\b(?:what(?:'s| is)? (?:the |today's )?date|what day is (?:it|today)|today's date|what is today|date today)\b"
)


@dataclass
class SkillResult:
    intent: str
    reply: str | None
    data: dict[str, Any] = field(default_factory=dict)


def drop_wake_prefix(text: str) -> str:
    """ "Hey Jarvis, what's the weather?" -> "what's the weather?": a wake phrase the transcript kept
    is not part of the request ("hey" would read as a greeting, and the turn as small talk)."""
    return _WAKE_PREFIX_SAID.sub("", text, count=1) or text


def normalize(text: str) -> str:
    text = text.lower().replace("’", "'")
    text = re.sub(r"[^\w\s':./%°-]", " ", text)
    text = re.sub(r"[.]+(\s|$)", " ", text)
    text = re.sub(r"\s+", " ", text).strip()
    return _WAKE_PREFIX.sub("", text).strip()


def _ordinal(n: int) -> str:
    suffix = "th" if 11 <= n % 100 <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


class BuiltinSkills:
    """Maps a transcript to a reply. Timers ring through `timers.on_ring`; `areas` and `here` name
    the home's rooms and the hub's own, for "the kitchen timer"."""

    def __init__(
        self,
        clock: Clock,
        timers: TimerManager,
        *,
        areas: Callable[[], Iterable[str]] = tuple,
        here: Callable[[], str | None] = lambda: None,
    ) -> None:
        self.clock = clock
        self.timers = timers
        self.timer_skill = TimerSkill(timers, areas=areas, here=here)
        self.calculator = Calculator()
        self.alarms = AlarmSkill(clock, timers)
        self.reminders = ReminderSkill(clock, timers)
        self.days_until = DaysUntil()

    def intent_of(self, transcript: str) -> str:
        """The intent `handle` would run, without running it (no timer started, no alarm silenced)."""
        text = normalize(transcript)
        if not text:
            return "no-speech"
        if _STOP.match(text):
            return "stop"
        if (found := self.alarms.intent_of(text) or self.reminders.intent_of(text)) is not None:
            return found  # before timers ("wake me up in 20 minutes") and "time" ("what time is my alarm")
        if (solved := self.calculator.solve(normalize(spell_symbols(transcript)))) is not None:
            return solved.intent  # only a sentence read whole: "7 times 8", "20 miles in kilometers"
        if (timer := self.timer_skill.intent_of(text)) is not None:
            return timer.value
        if (found := self.days_until.intent_of(text)) is not None:
            return found
        if spelled(text) is not None:
            return "spell"
        if _TIME.search(text):
            return "time"
        if _DATE.search(text):
            return "date"
        return "unknown"

    def handle(self, transcript: str) -> SkillResult:
        text = normalize(transcript)
        intent = self.intent_of(transcript)
        if intent == "no-speech":
            return SkillResult("no-speech", NO_SPEECH)
        if intent == "stop":
            return SkillResult("stop", None, {"silenced_alerts": self.timers.silence()})
        if intent in ("calculate", "convert"):
            solved = self.calculator.solve(normalize(spell_symbols(transcript)))
            assert solved is not None
            return SkillResult(solved.intent, solved.reply, {"value": solved.value})
        if intent in TimerIntent.__members__.values() and (done := self.timer_skill.handle(text)) is not None:
            kind, reply, data = done
            return SkillResult(kind.value, reply, data)
        if intent.startswith("alarm-") and (alarm := self.alarms.handle(text)) is not None:
            return SkillResult(*alarm)
        if intent.startswith("reminder-") and (reminder := self.reminders.handle(text)) is not None:
            return SkillResult(*reminder)
        if intent == "days-until" and (until := self.days_until.handle(text, self.clock.now().date())) is not None:
            return SkillResult(*until)
        if intent == "spell" and (word := spelled(text)) is not None:
            return SkillResult(*spell(word))
        if intent == "time":
            now = self.clock.now()
            spoken = now.strftime("%I:%M %p").lstrip("0")
            return SkillResult("time", f"It's {spoken}.", {"time": now.isoformat(timespec="minutes")})
        if intent == "date":
            now = self.clock.now()
            spoken = f"{now:%A}, {now:%B} {_ordinal(now.day)}, {now.year}"
            return SkillResult("date", f"Today is {spoken}.", {"date": now.date().isoformat()})
        return SkillResult("unknown", CANNOT)

    def alert_text(self, timer: Timer) -> str:
        """What a timer, an alarm or a reminder says when it rings."""
        if timer.kind == "alarm":
            return self.alarms.alert(timer)
        if timer.kind == "reminder":
            return self.reminders.alert(timer)
        if timer.name:
            return f"Your {timer.name} timer is done."
        return f"Your {timer.label} timer is done."
