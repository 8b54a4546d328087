"""Days until a date, on the hub's clock and local date: "how many days until christmas", "how long
until new year's", "how many sleeps until christmas", "how many days until december 25th". The next
occurrence counts (today's is "Christmas is today!"). Fixed-date holidays, and the US ones that fall
on the nth weekday of a month; no Easter (a computus would need dateutil, which the hub does not ship).
An event it does not know is not this skill's (the turn goes on to the next route).
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable
from datetime import date
from typing import Any

from edge_runtime.skills.numbers import parse_number, tokens

MONTHS = tuple(m.lower() for m in calendar.month_name[1:])
_MONTH_RE = "|".join(MONTHS + tuple(m[:3] for m in MONTHS) + ("sept",))
_ASK = re.compile(
    r"^(?:how many (?P<unit>days|sleeps|weeks|nights) "
    r"(?:is it |are there |are left |left |do we have |do i have |have we got )?"
    r"(?:until|till|til|to|before|'til|till it's|until it's)"
    r"|how long (?:is it |is there |do we have |do i have |have we got )?(?:until|till|til|to|before|'til)"
    r"|(?:days|sleeps) (?:until|till|til|to|left until)|countdown to) (?P<event>.+?)\??$"
)
_DAY_OF = re.compile(r"^(?:the )?(\w+?)(?:st|nd|rd|th)? (?:of )?(" + _MONTH_RE + r")$")
_MONTH_DAY = re.compile(r"^(" + _MONTH_RE + r")\.? (?:the )?(\w+?)(?:st|nd|rd|th)?$")
_ORDINALS = {
    "first": 1,
    "second": 2,
    "third": 3,
    "fourth": 4,
    "fifth": 5,
    "sixth": 6,
    "seventh": 7,
    "eighth": 8,
    "ninth": 9,
    "tenth": 10,
    "eleventh": 11,
    "twelfth": 12,
    "thirteenth": 13,
    "fourteenth": 14,
    "fifteenth": 15,
    "sixteenth": 16,
    "seventeenth": 17,
    "eighteenth": 18,
    "nineteenth": 19,
    "twentieth": 20,
    "thirtieth": 30,
    "thirty first": 31,
}


def _nth_weekday(month: int, weekday: int, n: int) -> Callable[[int], date]:
    """The nth (1-based) `weekday` (0 Monday) of `month` in a year: Thanksgiving is (11, 3, 4)."""

    def on(year: int) -> date:
        first = date(year, month, 1)
        return first.replace(day=1 + (weekday - first.weekday()) % 7 + 7 * (n - 1))

    return on


def _fixed(month: int, day: int) -> Callable[[int], date]:
    return lambda year: date(year, month, day)


# (names as said, the name spoken back, the date in a given year)
HOLIDAYS: tuple[tuple[tuple[str, ...], str, Callable[[int], date]], ...] = (
    (("christmas eve", "christmas eve day"), "Christmas Eve", _fixed(12, 24)),
    (("christmas", "christmas day", "xmas", "x-mas"), "Christmas", _fixed(12, 25)),
    (("new year's eve", "new years eve", "new year eve"), "New Year's Eve", _fixed(12, 31)),
    (
        ("new year's", "new years", "new year", "new year's day", "new years day", "the new year"),
        "New Year's Day",
        _fixed(1, 1),
    ),
    (("halloween", "hallowe'en"), "Halloween", _fixed(10, 31)),
    (
        ("valentine's day", "valentines day", "valentine's", "valentines", "valentine day", "saint valentine's day"),
        "Valentine's Day",
        _fixed(2, 14),
    ),
    (
        (
            "independence day",
            "the fourth of july",
            "fourth of july",
            "the 4th of july",
            "4th of july",
            "july 4th",
            "july fourth",
            "july 4",
        ),
        "Independence Day",
        _fixed(7, 4),
    ),
    (
        ("st patrick's day", "saint patrick's day", "st patricks day", "saint patricks day", "st paddy's day"),
        "St. Patrick's Day",
        _fixed(3, 17),
    ),
    (("thanksgiving", "thanksgiving day"), "Thanksgiving", _nth_weekday(11, 3, 4)),
    (("mother's day", "mothers day"), "Mother's Day", _nth_weekday(5, 6, 2)),
    (("father's day", "fathers day"), "Father's Day", _nth_weekday(6, 6, 3)),
)
_BY_NAME = {name: (spoken, on) for names, spoken, on in HOLIDAYS for name in names}


class BadDate(ValueError):
    """ "February 30th": a day the month does not have."""


def _day_number(word: str) -> int | None:
    if word.isdigit():
        return int(word)
    if word in _ORDINALS:
        return _ORDINALS[word]
    parsed = parse_number(tokens(word))
    return int(parsed[0]) if parsed else None


def event_of(said: str) -> tuple[str, Callable[[int], date]] | None:
    """ "christmas" -> ("Christmas", its date in a year); "december 25th" -> ("December 25th", ...)."""
    said = re.sub(r"\s+", " ", said.strip(" ?.!")).removeprefix("next ")
    if said in _BY_NAME:
        return _BY_NAME[said]
    words = re.sub(r"\b(\w+) (first|second|third|fourth|fifth|sixth|seventh|eighth|ninth)\b", r"\1-\2", said)
    m = _DAY_OF.match(words)
    month_word, day_word = (m.group(2), m.group(1)) if m else ("", "")
    if m is None and (m := _MONTH_DAY.match(words)):
        month_word, day_word = m.group(1), m.group(2)
    if m is None:
        return None
    month = next(i for i, name in enumerate(MONTHS, 1) if name.startswith(month_word[:3]))
    day = _day_number(day_word.replace("-", " "))
    if day is None:
        return None
    if not 1 <= day <= (29 if month == 2 else calendar.monthrange(2001, month)[1]):
        raise BadDate(f"{MONTHS[month - 1].capitalize()} {_nth(day)}")
    return f"{MONTHS[month - 1].capitalize()} {_nth(day)}", lambda year: date(year, month, day)


def next_occurrence(on: Callable[[int], date], today: date) -> date:
    """The event's next date from `today` (today counts); February 29th waits for a leap year."""
    for year in range(today.year, today.year + 9):
        try:
            when = on(year)
        except ValueError:  # February 29th in a common year
            continue
        if when >= today:
            return when
    raise ValueError("no such date")


def _nth(n: int) -> str:
    return f"{n}{'th' if 11 <= n % 100 <= 13 else {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th')}"


class DaysUntil:
    """ "How many days until ..." on a date the hub knows; `handle` is None for any other sentence."""

    def intent_of(self, text: str) -> str | None:
        m = _ASK.match(text)
        try:
            return "days-until" if m and event_of(m.group("event")) is not None else None
        except BadDate:
            return "days-until"

    def handle(self, text: str, today: date) -> tuple[str, str, dict[str, Any]] | None:
        m = _ASK.match(text)
        if m is None:
            return None
        try:
            found = event_of(m.group("event"))
        except BadDate as err:
            return "days-until", f"Sorry, {err} isn't a date.", {}
        if found is None:
            return None
        name, on = found
        when = next_occurrence(on, today)
        days = (when - today).days
        data = {"event": name, "date": when.isoformat(), "days": days}
        spoken = f"{when:%A}, {when:%B} {_nth(when.day)}" + ("" if when.year == today.year else f", {when.year}")
        if days == 0:
            return "days-until", f"{name} is today!", data
        unit = m.group("unit")
        if days == 1:
            more = "Just one more sleep" if unit == "sleeps" else "Just one more night"
            return (
                "days-until",
                f"{more} until {name}!" if unit in ("sleeps", "nights") else f"{name} is tomorrow.",
                data,
            )
        if unit in ("sleeps", "nights"):
            return "days-until", f"There are {days} {unit} until {name}.", data
        if unit == "weeks":
            weeks, rest = divmod(days, 7)
            counted = f"{weeks} week{'s' * (weeks != 1)}" + (f" and {rest} day{'s' * (rest != 1)}" if rest else "")
            return "days-until", f"{name} is {counted} away, on {spoken}.", data
        return "days-until", f"{name} is in {days} days, on {spoken}.", data
