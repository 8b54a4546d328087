"""The hub's built-in skills: time, date, timers and "stop". Deterministic, no model needed."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from edge_runtime.clock import Clock
from edge_runtime.skills.numbers import parse_duration, say_duration
from edge_runtime.skills.timers import Timer, TimerManager

NO_SPEECH = "Sorry, I didn't catch that."
CANNOT = "Sorry, I can't do that yet."

_WAKE_PREFIX = re.compile(r"^(?:hey|hi|okay|ok)?\s*(?:jarvis|alexa|mycroft|rhasspy)\b[\s,]*")
_STOP = re.compile(r"^(?:stop|stop it|stop that|be quiet|quiet|silence|shut up|enough|that's enough|"
                   r"never ?mind|cancel|cancel that|okay stop|ok stop|please stop|stop please)$")  # fmt: skip
_TIMER_CANCEL = re.compile(r"\b(?:cancel|stop|delete|remove|clear|turn off|end)\b.*\btimers?\b")
_TIMER_LEFT = re.compile(
    r"\b(?:how (?:much|long)|what'?s left|time left|remaining|left on)\b.*|\btimers?\b.*\b(?:left|remaining)\b"
)
_TIMER_SET = re.compile(r"\b(?:timer|time me|countdown|count down|remind me in)\b")
_TIME = re.compile(r"\b(?:what(?:'s| is)? (?:the )?time|time is it|tell me the time|current time|the time please)\b")
_DATE = re.compile(
    r"\b(?:what(?:'s| is)? (?:the |today's )?date|what day is (?:it|today)|today's date|what is today|date today)\b"
)


@dataclass
class SkillResult:
    intent: str
    reply: str | None
    data: dict[str, Any] = field(default_factory=dict)


def normalize(text: str) -> str:
    text = text.lower().replace("’", "'")
    text = re.sub(r"[^\w\s':.-]", " ", text)
    text = re.sub(r"[.]+(\s|$)", " ", text)
    text = re.sub(r"\s+", " ", text).strip()
    return _WAKE_PREFIX.sub("", text).strip()


def _ordinal(n: int) -> str:
    suffix = "th" if 11 <= n % 100 <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


class BuiltinSkills:
    """Maps a transcript to a reply. Timers ring through `timers.on_ring`."""

    def __init__(self, clock: Clock, timers: TimerManager) -> None:
        self.clock = clock
        self.timers = timers

    def intent_of(self, transcript: str) -> str:
        """The intent `handle` would run, without running it (no timer started, no alarm silenced)."""
        text = normalize(transcript)
        if not text:
            return "no-speech"
        if _STOP.match(text):
            return "stop"
        if _TIMER_CANCEL.search(text):
            return "timer-cancel"
        if ("timer" in text and _TIMER_LEFT.search(text)) or re.search(r"how much time is left", text):
            return "timer-remaining"
        if _TIMER_SET.search(text):
            return "timer-set"
        if _TIME.search(text):
            return "time"
        if _DATE.search(text):
            return "date"
        return "unknown"

    def handle(self, transcript: str) -> SkillResult:
        intent = self.intent_of(transcript)
        if intent == "no-speech":
            return SkillResult("no-speech", NO_SPEECH)
        if intent == "stop":
            return SkillResult("stop", None, {"silenced_alerts": self.timers.silence()})
        if intent == "timer-cancel":
            return self._cancel_timer()
        if intent == "timer-remaining":
            return self._time_left()
        if intent == "timer-set":
            return self._set_timer(normalize(transcript))
        if intent == "time":
            now = self.clock.now()
            spoken = now.strftime("%I:%M %p").lstrip("0")
            return SkillResult("time", f"It's {spoken}.", {"time": now.isoformat(timespec="minutes")})
        if intent == "date":
            now = self.clock.now()
            spoken = f"{now:%A}, {now:%B} {_ordinal(now.day)}, {now.year}"
            return SkillResult("date", f"Today is {spoken}.", {"date": now.date().isoformat()})
        return SkillResult("unknown", CANNOT)

    def _set_timer(self, text: str) -> SkillResult:
        seconds = parse_duration(text)
        if seconds is None:
            return SkillResult("timer-set", "For how long? Say, for example, set a timer for ten minutes.")
        if seconds > 24 * 3600:
            return SkillResult("timer-set", "Timers can run for up to one day.", {"seconds": seconds})
        timer = self.timers.start(seconds)
        return SkillResult(
            "timer-set", f"Timer set for {say_duration(seconds)}.", {"timer_id": timer.id, "seconds": seconds}
        )

    def _time_left(self) -> SkillResult:
        active = self.timers.active()
        if not active:
            return SkillResult("timer-remaining", "You have no timers running.")
        parts = [(t, round(self.timers.remaining(t))) for t in active]
        data = {"timers": [{"id": t.id, "remaining_s": left} for t, left in parts]}
        if len(parts) == 1:
            return SkillResult("timer-remaining", f"{say_duration(parts[0][1]).capitalize()} left.", data)
        spoken = "; ".join(f"your {t.label} timer has {say_duration(left)} left" for t, left in parts)
        return SkillResult("timer-remaining", spoken[0].upper() + spoken[1:] + ".", data)

    def _cancel_timer(self) -> SkillResult:
        cancelled = self.timers.cancel()
        silenced = self.timers.silence()
        if not cancelled:
            reply = "Okay, the alarm is off." if silenced else "There's no timer to cancel."
            return SkillResult("timer-cancel", reply, {"cancelled": 0})
        if len(cancelled) == 1:
            return SkillResult("timer-cancel", f"Cancelled your {cancelled[0].label} timer.", {"cancelled": 1})
        return SkillResult("timer-cancel", f"Cancelled {len(cancelled)} timers.", {"cancelled": len(cancelled)})

    @staticmethod
    def alert_text(timer: Timer) -> str:
        return f"Your {timer.label} timer is done."
