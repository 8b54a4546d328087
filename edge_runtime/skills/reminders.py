"""Reminders: "remind me to call the dentist at 10", "remind me in 20 minutes to take the pizza out",
"remind me tomorrow at 9 to water the plants", "what reminders do I have", "cancel my reminder to
call the dentist". A reminder is a timer of kind "reminder" (skills/timers.py) whose name is what to
remind of; when due it rings "Reminder: call the dentist." like a timer, and it persists like one.

"At 10" without am/pm is the next 10:00 or 22:00, whichever comes first (within 12 hours). With a
day ("tomorrow at 3") it is the daytime one: 7 to 11 in the morning, 12 noon, 1 to 6 in the afternoon.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from edge_runtime.clock import Clock
from edge_runtime.skills.clock_times import (
    MAX_AHEAD,
    WEEKDAYS,
    BadTime,
    When,
    daytime_rule,
    is_time,
    join_and,
    matches,
    parse_when,
    resolve,
    say_day,
    say_time,
    tidy,
    wall,
)
from edge_runtime.skills.numbers import say_duration
from edge_runtime.skills.timers import Timer, TimerManager

Done = tuple[str, str, dict[str, Any]]
SET, LIST, CANCEL = "reminder-set", "reminder-list", "reminder-cancel"
MAX_TEXT = 120
EXAMPLE = "Say, for example, remind me to call the dentist at 10 AM."

_POLITE = r"^(?:please )?(?:(?:can|could|would|will) you (?:please )?)?"
_SET = re.compile(
    _POLITE + r"(?:remind me|(?:set|create|add|make|give me|schedule) (?:me )?(?:a|an|another|one more|new) reminder"
    r"|new reminder)\b\s*(?P<rest>.*?)(?: please)?$"
)
_LIST = re.compile(
    r"^(?:what|which|list|show|tell me|check|read|any)\b.*\breminders?\b"
    r"|\b(?:do|have) i (?:have|got|set) (?:any )?reminders?\b|^are there any reminders\b|^how many reminders\b"
)
_CANCEL = re.compile(
    _POLITE + r"(?:cancel|delete|remove|clear|turn off|dismiss|get rid of|forget) (?P<what>.*?)\breminder(?P<plural>s)?"
    r"\b\s*(?:(?:to|about|for|that) (?P<about>.+?))?(?: please)?$"
)
_LEAD = re.compile(
    r"^(?:(?:that )?i (?:need|have|must|should|want|got) to |(?:that )?i've got to "
    r"|to remember to |to |about |that |for )"
)
_WHEN_STARTS = {
    "in",
    "after",
    "at",
    "by",
    "tomorrow",
    "today",
    "tonight",
    "this",
    "on",
    "next",
    "around",
    "the",
    "noon",
}
_WHEN_STARTS |= set(WEEKDAYS)
_YOU = {"me": "you", "my": "your", "i": "you", "i'm": "you're", "myself": "yourself", "mine": "yours", "am": "are"}
_DETS = re.compile(r"\b(?:the|my|our|a|an|that|this|all|all of|of|next|upcoming)\b")


def split(rest: str) -> tuple[str, When | None, BadTime | None]:
    """ "to call the dentist at 10" -> ("call the dentist", when, None): what to remind of, and when.
    A time off the clock comes back as the error, for the reply."""
    words, bad = rest.split(), None
    if words and words[0] in _WHEN_STARTS and is_time(rest, bare_duration=False):  # "remind me at 5": of what?
        try:
            return "", parse_when(rest), None
        except BadTime as err:
            return "", None, err
    for j in range(1, len(words)):  # when first: "tomorrow at 9 to water the plants"
        if words[j] in ("to", "that", "about") and words[0] in _WHEN_STARTS | {"for"}:
            try:
                when = parse_when(" ".join(words[:j]))
            except BadTime as err:
                bad = bad or err
                continue
            if when is not None:
                return " ".join(words[j:]), when, None
    for i in range(1, len(words)):  # what first: "to call the dentist at 10"
        if words[i] in _WHEN_STARTS:
            try:
                when = parse_when(" ".join(words[i:]))
            except BadTime as err:
                bad = bad or err
                continue
            if when is not None:
                return " ".join(words[:i]), when, None
    return rest, None, bad


def _you(text: str) -> str:
    return " ".join(_YOU.get(w, w) for w in text.split())


class ReminderSkill:
    def __init__(self, clock: Clock, timers: TimerManager) -> None:
        self.clock, self.timers = clock, timers

    def intent_of(self, text: str) -> str | None:
        text = tidy(text)
        if _SET.match(text):
            return SET
        if _LIST.search(text):
            return LIST
        if _CANCEL.match(text):
            return CANCEL
        return None

    def handle(self, text: str) -> Done | None:
        text = tidy(text)
        if m := _SET.match(text):
            return self._set(m.group("rest"))
        if _LIST.search(text):
            return LIST, self._list(), {"reminders": [t.id for t in self.timers.active("reminder")]}
        if m := _CANCEL.match(text):
            return self._cancel(m)
        return None

    def _set(self, rest: str) -> Done:
        what, when, bad = split(rest)
        connector = "that" if re.match(r"^that (?!i (?:need|have|must|should|want|got) to)", what) else "to"
        connector = "about" if what.startswith("about ") else connector
        what = _you(_LEAD.sub("", what).strip())[:MAX_TEXT].strip()
        if bad is not None and when is None:
            return SET, f"Sorry, {bad.said} isn't a time on the clock. {EXAMPLE}", {}
        if not what:
            return SET, f"What should I remind you about? {EXAMPLE}", {}
        now = self.clock.now()
        try:
            at = resolve(when, now, daytime_rule) if when is not None else None
        except BadTime as err:
            return SET, f"It's already past {err.said} today. When should I remind you?", {}
        if at is None:
            return SET, f"When should I remind you? {EXAMPLE}", {}
        if at - now > MAX_AHEAD:
            return SET, "I can set reminders up to a week ahead.", {}
        if any(r.name == what and r.at == at.timestamp() for r in self.timers.active("reminder")):
            return SET, "You already have that reminder.", {"due": at.isoformat(timespec="minutes")}
        reminder = self.timers.start(round((at - now).total_seconds()), kind="reminder", at=at.timestamp(), name=what)
        data = {"timer_id": reminder.id, "due": at.isoformat(timespec="minutes"), "text": what}
        assert when is not None
        due = f"in {say_duration(when.after_s)}" if when.after_s is not None else self._due(at, now)
        return SET, f"I'll remind you {connector} {what} {due}.", data

    @staticmethod
    def _due(at: datetime, now: datetime) -> str:
        """ "at 10:00 AM", "at 9:00 AM tomorrow"."""
        day = say_day(at, now)
        return f"at {say_time(at)}" + ("" if day == "today" else f" {day}")

    def _list(self) -> str:
        now = self.clock.now()
        spoken = [f"{r.name} {self._due(self._at(r, now), now)}" for r in self.timers.active("reminder")]
        if not spoken:
            return "You have no reminders."
        if len(spoken) == 1:
            return f"You have one reminder: {spoken[0]}."
        return f"You have {len(spoken)} reminders: {join_and(spoken)}."

    def _cancel(self, m: re.Match[str]) -> Done:
        now = self.clock.now()
        reminders = self.timers.active("reminder")
        what = _DETS.sub(" ", m.group("what")).strip()
        about = _you(_LEAD.sub("", m.group("about") or "")).strip()
        everything = bool(m.group("plural")) or "all" in m.group("what").split()
        chosen = reminders
        if about:
            chosen = [r for r in reminders if about in (r.name or "") or (r.name or "") in about]
        elif what and is_time(what):
            try:
                when = parse_when(what, bare_duration=False)
            except BadTime as err:
                return CANCEL, f"Sorry, {err.said} isn't a time on the clock.", {}
            chosen = [r for r in reminders if when is not None and matches(self._at(r, now), when, now)]
        elif what:
            chosen = [r for r in reminders if what in (r.name or "")]
        if not chosen:
            reply = (
                f"You have no reminder to {about or what}."
                if reminders and (about or what)
                else "You have no reminders."
            )
            return CANCEL, reply, {"cancelled": 0}
        if len(chosen) > 1 and not everything:
            names = " or ".join(r.name or "" for r in chosen[:3])
            return CANCEL, f"Which reminder: {names}?", {"reminders": [r.id for r in chosen]}
        self.timers.cancel(chosen)
        reply = (
            f"Cancelled your reminder to {chosen[0].name}."
            if len(chosen) == 1
            else f"Cancelled {len(chosen)} reminders."
        )
        return CANCEL, reply, {"cancelled": len(chosen)}

    @staticmethod
    def _at(reminder: Timer, now: datetime) -> datetime:
        return wall(reminder.at, now) if reminder.at is not None else now

    @staticmethod
    def alert(reminder: Timer) -> str:
        return f"Reminder: {reminder.name}."
