"""Clock times as said ("6:30", "7 am", "half past six", "quarter to seven", "noon") and the days
around them ("tomorrow", "tonight", "on monday", "in 20 minutes"), resolved on the hub's clock to
the wall-clock time an alarm or a reminder is due.

Without am/pm and without a day, a time means its next occurrence within 12 hours: at 20:00, "6:30"
is 6:30 AM tomorrow; at 14:00 it is 6:30 PM today. With a day ("tomorrow at 9") the skill's
`DayRule` picks the half of that day (an alarm takes the morning, a reminder the daytime).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo

from edge_runtime.skills.numbers import ONES, TENS, parse_duration

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
MAX_AHEAD = timedelta(days=7)
DayRule = Callable[[int], int]  # an hour 1-12 said without am/pm, on a named day -> the hour 0-23


class BadTime(ValueError):
    """A time that is not on the clock ("25:99", "13 pm"), or one already past ("today at 6 am")."""

    def __init__(self, said: str, passed: bool = False) -> None:
        super().__init__(said)
        self.said, self.passed = said, passed


@dataclass(frozen=True)
class ClockTime:
    hour: int  # 0-23 when exact; 1-12 when `meridiem` is None and `exact` is False
    minute: int
    meridiem: str | None = None  # "am" / "pm"
    exact: bool = False  # a 24-hour time ("18:30", "0:15"), noon or midnight


@dataclass(frozen=True)
class When:
    at: ClockTime | None = None
    day: int | None = None  # days from today; None when no day was said
    meridiem: str | None = None  # "in the morning", "tonight"
    after_s: int | None = None  # "in 20 minutes"
    weekday: int | None = None  # "on monday": 0-6
    next_week: bool = False  # "next monday": never today


_DAYS = {"today": 0, "tomorrow": 1, "the day after tomorrow": 2, "day after tomorrow": 2}
_PARTS = {
    "this morning": (0, "am"),
    "tonight": (0, "pm"),
    "this afternoon": (0, "pm"),
    "this evening": (0, "pm"),
    "in the morning": (None, "am"),
    "in the afternoon": (None, "pm"),
    "in the evening": (None, "pm"),
    "at night": (None, "pm"),
    "morning": (None, "am"),
    "afternoon": (None, "pm"),
    "evening": (None, "pm"),
    "night": (None, "pm"),
}
_DAY_RE = re.compile(r"\b(?:the day after tomorrow|day after tomorrow|today|tomorrow)\b")
_PART_RE = re.compile(r"\b(?:" + "|".join(sorted(_PARTS, key=len, reverse=True)) + r")\b")
_WEEKDAY_RE = re.compile(r"\b(?:(?:on |this |next )?(" + "|".join(WEEKDAYS) + r"))\b")
_NUMBER_WORDS = {**ONES, **TENS, "oh": 0}
_DURATION = re.compile(r"^(?:in|after) \S+(?: \S+){0,6} (?:seconds?|minutes?|mins?|hours?|hrs?|days?|half)$")


def tidy(text: str) -> str:
    """ "7 a.m." -> "7 am", "6.30" -> "6:30", "7pm" -> "7 pm", "six o'clock" -> "six"."""
    text = re.sub(r"\b([ap])\s?\.?\s?m\b\.?", r"\1m", text)
    text = re.sub(r"(\d)\s*([ap]m)\b", r"\1 \2", text)
    text = re.sub(r"\b(\d{1,2})\.(\d{2})\b", r"\1:\2", text)
    text = re.sub(r"\s*\bo'?\s?clock\b", "", text)
    return re.sub(r"\s+", " ", text).strip()


def parse_when(text: str, *, bare_duration: bool = False) -> When | None:
    """The whole of `text` as a time: None when it is not one, BadTime when it is one off the clock.
    `bare_duration`: "20 minutes" (no "in") is a delay too ("set an alarm for 20 minutes")."""
    text = tidy(text)
    delay = "in " + re.sub(r"^(?:for|in|after) ", "", text) if bare_duration else text
    if _DURATION.match(delay) and (seconds := parse_duration(delay)) is not None:
        return When(after_s=seconds)
    day: int | None = None
    meridiem: str | None = None
    weekday: int | None = None
    if found := _DAY_RE.search(text):
        day, text = _DAYS[found.group(0)], _cut(text, found)
    if day is None and (found := _WEEKDAY_RE.search(text)):
        weekday, text = WEEKDAYS.index(found.group(1)), _cut(text, found)
    next_week = bool(found and found.group(0).startswith("next") and weekday is not None)
    if found := _PART_RE.search(text):
        part_day, meridiem = _PARTS[found.group(0)]
        day = day if day is not None or weekday is not None else part_day
        text = _cut(text, found)
    text = re.sub(r"^(?:(?:at|for|by|on|around|about|to)\b\s*)+", "", text).strip()
    if not text:
        said = day is not None or weekday is not None or meridiem
        return When(day=day, meridiem=meridiem, weekday=weekday, next_week=next_week) if said else None
    at = parse_clock(text)
    return None if at is None else When(at, day, meridiem, weekday=weekday, next_week=next_week)


def _cut(text: str, found: re.Match[str]) -> str:
    return re.sub(r"\s+", " ", text[: found.start()] + " " + text[found.end() :]).strip(" ,")


def parse_clock(text: str) -> ClockTime | None:
    """ "6:30", "18:30", "7 am", "630", "seven fifteen pm", "half past six", "ten to eight", "noon"."""
    words = text.split()
    meridiem = words.pop() if words and words[-1] in ("am", "pm") else None
    body = " ".join(words)
    if body in ("noon", "midday", "12 noon", "twelve noon"):
        return ClockTime(12, 0, None, exact=True)
    if body in ("midnight", "12 midnight", "twelve midnight"):
        return ClockTime(0, 0, None, exact=True)
    if m := re.fullmatch(r"(\d{1,2}):(\d{2})", body) or re.fullmatch(r"(\d{1,2})(\d{2})", body):
        return _checked(int(m.group(1)), int(m.group(2)), meridiem, text)
    if m := re.fullmatch(r"(\d{1,2})(?: (\d{1,2}))?", body):
        return _checked(int(m.group(1)), int(m.group(2) or 0), meridiem, text)
    if m := re.fullmatch(
        r"(half|quarter|a quarter|\S+(?: \S+)?(?: minutes?)?) (past|after|to|till|before|of) (\S+)", body
    ):
        minutes = {"half": 30, "quarter": 15, "a quarter": 15}.get(m.group(1))
        minutes = minutes if minutes is not None else _number(re.sub(r" minutes?$", "", m.group(1)))
        hour = _number(m.group(3))
        if minutes is None or hour is None or (m.group(1) == "half" and m.group(2) not in ("past", "after")):
            return None
        if not 0 < minutes < 60 or hour > 23:
            raise BadTime(text)
        if m.group(2) in ("past", "after"):
            return _checked(hour, minutes, meridiem, text)
        before = hour - 1 if hour > 1 else (12 if hour == 1 else 23)
        return _checked(before, 60 - minutes, meridiem, text)
    parts = body.split(" ", 1)
    hour = _number(parts[0])
    minute = _number(parts[1]) if len(parts) > 1 else 0
    if hour is None or minute is None or (len(parts) > 1 and minute < 10 and not parts[1].startswith("oh")):
        return None
    return _checked(hour, minute, meridiem, text)


def _number(words: str) -> int | None:
    """ "seven", "7", "forty five", "oh five" -> the number, or None."""
    if words.isdigit():
        return int(words)
    total, parts = 0, words.replace("-", " ").split()
    if not parts or len(parts) > 2 or any(p not in _NUMBER_WORDS for p in parts):
        return None
    for p in parts:
        total += _NUMBER_WORDS[p]
    return total


def _checked(hour: int, minute: int, meridiem: str | None, said: str) -> ClockTime:
    if minute > 59 or hour > 23 or (meridiem and not 1 <= hour <= 12) or hour < 0:
        raise BadTime(said)
    return ClockTime(hour, minute, meridiem, exact=meridiem is None and (hour == 0 or hour > 12))


def resolve(when: When, now: datetime, rule: DayRule) -> datetime | None:
    """The wall-clock time `when` means from `now`: None when it says no time ("tomorrow")."""
    if when.after_s is not None:
        return now + timedelta(seconds=when.after_s)
    if when.at is None:
        return None
    at, meridiem = when.at, when.at.meridiem or when.meridiem
    if at.exact:
        hours = [at.hour]
    elif meridiem is not None:
        hours = [at.hour % 12 + (12 if meridiem == "pm" else 0)]
    elif when.day is not None or when.weekday is not None:
        hours = [rule(at.hour)]
    else:
        hours = [at.hour % 12, at.hour % 12 + 12]
    if when.day is None and when.weekday is None:
        times = [local(now.date() + timedelta(days=d), h, at.minute, now.tzinfo) for d in (0, 1) for h in hours]
        return min(t for t in times if t > now)
    day = when.day or 0
    if when.weekday is not None:  # the next one; today only while the time is still ahead, never for "next"
        day = (when.weekday - now.weekday()) % 7
        if day == 0 and (when.next_week or local(now.date(), hours[0], at.minute, now.tzinfo) <= now):
            day = 7
    chosen = local(now.date() + timedelta(days=day), hours[0], at.minute, now.tzinfo)
    if chosen <= now and not at.exact and meridiem is None and at.hour % 12 + 12 != hours[0]:
        chosen = local(now.date() + timedelta(days=day), at.hour % 12 + 12, at.minute, now.tzinfo)
    if chosen <= now:
        raise BadTime(say_time(chosen), passed=True)
    return chosen


def local(day: date, hour: int, minute: int, tz: tzinfo | None) -> datetime:
    """That wall-clock time in the hub's timezone. A fixed offset that is the system's own (the hub
    set no timezone) follows the system's daylight-saving rules, so "tomorrow at 7" stays 7."""
    naive = datetime.combine(day, time(hour, minute))
    if tz is None or (not isinstance(tz, ZoneInfo) and datetime.now().astimezone().tzinfo == tz):
        return naive.astimezone()
    return naive.replace(tzinfo=tz)


def say_time(at: datetime) -> str:
    """ "6:30 AM", "10:00 PM"."""
    return f"{at.hour % 12 or 12}:{at.minute:02d} {'AM' if at.hour < 12 else 'PM'}"


def say_day(at: datetime, now: datetime) -> str:
    """ "today", "tomorrow", "on Monday"."""
    days = (at.date() - now.date()).days
    if days == 0:
        return "today"
    if days == 1:
        return "tomorrow"
    return f"on {at:%A}" if days < 7 else f"on {at:%A}, {at:%B} {at.day}"


def say_when(at: datetime, now: datetime) -> str:
    """ "6:30 AM tomorrow"."""
    return f"{say_time(at)} {say_day(at, now)}"


def morning_rule(hour: int) -> int:
    """An alarm on a named day without am/pm: the morning ("tomorrow at 6:30"), 12 is noon."""
    return 12 if hour == 12 else hour % 12


def daytime_rule(hour: int) -> int:
    """A reminder on a named day without am/pm: 7 to 11 the morning, 12 noon, 1 to 6 the afternoon."""
    return hour % 12 if 7 <= hour <= 11 else hour % 12 + 12


def day_of(when: When, now: datetime) -> date | None:
    """The date a day said without a time means ("tomorrow", "on monday"), or None."""
    if when.weekday is not None:
        return now.date() + timedelta(days=(when.weekday - now.weekday()) % 7 or (7 if when.next_week else 0))
    return None if when.day is None else now.date() + timedelta(days=when.day)


def matches(at: datetime, when: When, now: datetime) -> bool:
    """Whether an alarm due `at` is the one `when` names: "my 6:30 alarm", "tomorrow's alarm"."""
    if (day := day_of(when, now)) is not None and at.date() != day:
        return False
    if when.at is None:
        return True
    clock, meridiem = when.at, when.at.meridiem or when.meridiem
    if clock.exact or meridiem is not None:
        hour = clock.hour if clock.exact else clock.hour % 12 + (12 if meridiem == "pm" else 0)
        return (at.hour, at.minute) == (hour, clock.minute)
    return at.hour % 12 == clock.hour % 12 and at.minute == clock.minute


def said_time(clock: ClockTime) -> str:
    """A time as the user gave it: "6:30", "7:00 PM"."""
    if clock.meridiem:
        return f"{clock.hour}:{clock.minute:02d} {clock.meridiem.upper()}"
    return f"{clock.hour}:{clock.minute:02d}"


def wall(at: float, now: datetime) -> datetime:
    """A stored Unix due time, in the hub's timezone."""
    return datetime.fromtimestamp(at, tz=now.tzinfo)


def join_and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def is_time(said: str, *, bare_duration: bool = True) -> bool:
    """Whether `said` is a time, on the clock or not ("25:99" is one, "the kitchen" is not)."""
    try:
        return parse_when(said, bare_duration=bare_duration) is not None
    except BadTime:
        return True
