"""Alarms at a clock time: "set an alarm for 6:30 tomorrow", "wake me up at 7 am", "set an alarm for
half past six", "what alarms do I have", "cancel my 6:30 alarm". An alarm is a timer of kind "alarm"
(skills/timers.py) due at a wall-clock time in the hub's timezone: it rings like a timer, "stop"
silences it, and the timer store keeps it across restarts.

Never the home's alarm system: "arm/disarm the alarm", "turn on the alarm", "set the alarm" (no time:
arming it, in British English) and anything naming a system, security, a siren or a panel are left
to the device intents. "Turn off / stop the alarm" is this skill's only while an alert is ringing.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from edge_runtime.clock import Clock
from edge_runtime.skills.clock_times import (
    MAX_AHEAD,
    BadTime,
    is_time,
    join_and,
    matches,
    morning_rule,
    parse_when,
    resolve,
    said_time,
    say_time,
    say_when,
    tidy,
    wall,
)
from edge_runtime.skills.numbers import say_duration
from edge_runtime.skills.timers import Timer, TimerManager

Done = tuple[str, str, dict[str, Any]]
SET, LIST, CANCEL, STOP = "alarm-set", "alarm-list", "alarm-cancel", "alarm-stop"
ASK_TIME = "For what time? Say, for example, set an alarm for 7 AM tomorrow."

_DEVICE = re.compile(r"\b(?:system|security|burglar|panel|siren|armed|arm|disarm|house alarm|home alarm|fire|smoke)\b")
_POLITE = r"^(?:please )?(?:(?:can|could|would|will) you (?:please )?)?(?:i (?:want|need|would like) to |i'd like to )?"
_SET = re.compile(
    _POLITE + r"(?:set|create|make|add|schedule|give me|put in|put) (?:me )?(?P<det>an|a|my|the|another|one more)?"
    r"\s*(?:new )?(?P<pre>.*?)\s*\balarm(?: clock)?\b\s*(?P<when>.*?)(?: please)?$"
)
_BARE = re.compile(r"^(?:an? |new )?alarm (?P<when>(?:for|at|in) .+)$")
_WAKE = re.compile(_POLITE + r"wake me(?: up)?\b\s*(?P<when>.*?)(?: please)?$")
_GOES_OFF = re.compile(r"^(?:(?:to (?:wake me(?: up)?|go off|ring))|that (?:goes off|rings)|going off)\b\s*")
_LIST = re.compile(
    r"^(?:what|which|list|show|tell me|check|read|any)\b.*\balarms\b"
    r"|\b(?:do|have) i (?:have|got|set) (?:any |an )?alarms?\b"
    r"|\b(?:what time|when) (?:is|'s|does|will) my (?:next )?alarm\b"
    r"|^what(?:'s| is) my (?:next )?alarm\b|^is my alarm set\b|^are there any alarms\b|^how many alarms\b"
)
_CANCEL = re.compile(
    _POLITE + r"(?P<verb>cancel|delete|remove|clear|turn off|switch off|shut off|disable|stop|dismiss|"
    r"get rid of|unset|silence) (?P<what>.*?)\balarm(?P<plural>s)?\b(?: clock)?\s*(?P<when>.*?)(?: please)?$"
)
_QUIET_VERBS = ("turn off", "switch off", "shut off", "stop", "silence", "dismiss", "disable")
_DETS = re.compile(r"\b(?:the|my|our|a|an|that|this|all|all of|of|next|upcoming|set)\b")


class AlarmSkill:
    def __init__(self, clock: Clock, timers: TimerManager) -> None:
        self.clock, self.timers = clock, timers

    def intent_of(self, text: str) -> str | None:
        return self._read(text)[0]

    def handle(self, text: str) -> Done | None:
        intent, when = self._read(text)
        if intent is None:
            return None
        if intent == SET:
            return self._set(when)
        if intent == LIST:
            return LIST, self._list(), {"alarms": [t.id for t in self.timers.active("alarm")]}
        if intent == STOP:
            return STOP, "Okay, the alarm is off.", {"silenced_alerts": self.timers.silence()}
        return self._cancel(text, when)

    # --- reading -------------------------------------------------------------------------

    def _read(self, text: str) -> tuple[str | None, str]:
        """The intent, and the words that say when ("" when none)."""
        text = tidy(text)
        if _DEVICE.search(text):
            return None, ""
        if m := _SET.match(text):
            pre, when = m.group("pre"), _GOES_OFF.sub("", m.group("when"))
            if pre and not is_time(pre):  # "set the kitchen alarm": not a time, not ours
                return None, ""
            if not pre and not when and m.group("det") == "the":  # "set the alarm": arm the system
                return None, ""
            return SET, f"{pre} {when}".strip()
        if m := _BARE.match(text) or _WAKE.match(text):
            return SET, m.group("when")
        if _LIST.search(text) and "reminder" not in text:
            return LIST, ""
        if m := _CANCEL.match(text):
            what = _DETS.sub(" ", m.group("what")).strip()
            words = f"{what} {m.group('when')}".strip()
            if words and not is_time(words):  # "cancel the fire alarm", "the kitchen alarm"
                return None, ""
            plain = not words and not m.group("plural") and "all" not in m.group("what")
            if plain and self.timers.ringing_now():
                return STOP, ""
            if plain and m.group("verb") in _QUIET_VERBS and "my" not in m.group("what").split():
                return None, ""  # "turn off the alarm", nothing ringing: the alarm system's
            return CANCEL, words
        return None, ""

    # --- doing -----------------------------------------------------------------------------

    def _set(self, said: str) -> Done:
        now = self.clock.now()
        try:
            when = parse_when(said, bare_duration=True) if said else None
            at = resolve(when, now, morning_rule) if when is not None else None
        except BadTime as err:
            if err.passed:
                return SET, f"It's already past {err.said} today. Say, for example, {err.said} tomorrow.", {}
            return SET, f"Sorry, {err.said} isn't a time on the clock. Say, for example, set an alarm for 6:30 AM.", {}
        if when is None and said:
            return SET, f"Sorry, I didn't catch the time. {ASK_TIME}", {}
        if at is None:
            return SET, ASK_TIME, {}
        if at - now > MAX_AHEAD:
            return SET, "I can set alarms up to a week ahead.", {}
        spoken = say_when(at, now)
        if any(t.at == at.timestamp() for t in self.timers.active("alarm")):
            return SET, f"You already have an alarm for {spoken}.", {"due": at.isoformat()}
        alarm = self.timers.start(round((at - now).total_seconds()), kind="alarm", at=at.timestamp())
        data = {"timer_id": alarm.id, "due": at.isoformat(timespec="minutes")}
        if when is not None and when.after_s is not None:
            return SET, f"Your alarm is set for {spoken}, {say_duration(when.after_s)} from now.", data
        return SET, f"Your alarm is set for {spoken}.", data

    def _list(self) -> str:
        spoken = self._spoken(self.timers.active("alarm"))
        if not spoken:
            return "You have no alarms set."
        if len(spoken) == 1:
            return f"You have one alarm, for {spoken[0]}."
        return f"You have {len(spoken)} alarms: {join_and(spoken)}."

    def _cancel(self, text: str, said: str) -> Done:
        now = self.clock.now()
        alarms = self.timers.active("alarm")
        try:
            when = parse_when(said) if said else None
        except BadTime as err:
            return CANCEL, f"Sorry, {err.said} isn't a time on the clock.", {}
        if when is not None:
            chosen = [a for a in alarms if matches(self._at(a, now), when, now)]
        elif re.search(r"\ball\b|\balarms\b", text):
            chosen = alarms
        elif self.timers.ringing_now():
            return STOP, "Okay, the alarm is off.", {"silenced_alerts": self.timers.silence()}
        else:
            chosen = alarms[:1] if re.search(r"\bnext\b", text) or len(alarms) == 1 else alarms
        if not chosen:
            which = f" for {said_time(when.at)}" if when is not None and when.at is not None else ""
            return CANCEL, f"You have no alarm set{which}." if alarms else "You have no alarms set.", {"cancelled": 0}
        spoken = self._spoken(chosen)
        if len(chosen) > 1 and not re.search(r"\ball\b|\balarms\b", text):
            more = "" if len(spoken) <= 3 else ", or say cancel all alarms"
            return CANCEL, f"Which alarm: {' or '.join(spoken[:3])}{more}?", {"alarms": [a.id for a in chosen]}
        self.timers.cancel(chosen)
        reply = f"Cancelled your alarm for {spoken[0]}." if len(chosen) == 1 else f"Cancelled {len(chosen)} alarms."
        return CANCEL, reply, {"cancelled": len(chosen)}

    def _at(self, alarm: Timer, now: datetime) -> datetime:
        return wall(alarm.at, now) if alarm.at is not None else now

    def _spoken(self, alarms: list[Timer]) -> list[str]:
        now = self.clock.now()
        return [say_when(self._at(a, now), now) for a in alarms]

    def alert(self, alarm: Timer) -> str:
        """What a ringing alarm says."""
        return f"It's {say_time(self._at(alarm, self.clock.now()))}. This is your alarm."
