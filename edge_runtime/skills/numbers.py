"""Spoken numbers and durations: "ten minutes", "an hour and a half", "1 hour 30 seconds"."""

from __future__ import annotations

import re

# The number words 0-19 and the tens, shared with the calculator (skills/calculator.py).
ONES = {
    "zero": 0,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
}
TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90}
_UNITS = {**ONES, "oh": 0, "a": 1, "an": 1, "couple": 2}  # in durations: "an hour", "a couple of minutes"
_UNIT_SECONDS = {
    "second": 1,
    "seconds": 1,
    "sec": 1,
    "secs": 1,
    "minute": 60,
    "minutes": 60,
    "min": 60,
    "mins": 60,
    "hour": 3600,
    "hours": 3600,
    "hr": 3600,
    "hrs": 3600,
    "day": 86400,
    "days": 86400,
}
_ARTICLES = ("a", "an", "couple")
_TOKEN = re.compile(r"\d+(?:\.\d+)?|[a-z]+")


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(text.lower().replace("-", " "))


def _below_hundred(words: list[str], i: int) -> tuple[int, int] | None:
    if i >= len(words):
        return None
    w = words[i]
    if w in TENS:
        value, i = TENS[w], i + 1
        if i < len(words) and words[i] in _UNITS and 1 <= _UNITS[words[i]] <= 9 and words[i] not in _ARTICLES:
            value, i = value + _UNITS[words[i]], i + 1
        return value, i
    if w in _UNITS:
        return _UNITS[w], i + 1
    return None


def parse_number(words: list[str]) -> tuple[float, int] | None:
    """Parse a number at the start of `words`: (value, tokens used), or None."""
    if not words:
        return None
    if re.fullmatch(r"\d+(?:\.\d+)?", words[0]):
        return float(words[0]), 1
    head = _below_hundred(words, 0)
    if head is None:
        return None
    value, i = head
    if i < len(words) and words[i] == "hundred":
        value, i = value * 100, i + 1
        j = i + 1 if words[i : i + 1] == ["and"] else i
        tail = _below_hundred(words, j)
        if tail is not None:
            value, i = value + tail[0], tail[1]
    return float(value), i


def parse_duration(text: str) -> int | None:
    """Total seconds of every "<number> <unit>" in the text; "and a half" adds half a unit."""
    words = tokens(text)
    total = 0.0
    found = False
    i = 0
    last_unit = 0
    while i < len(words):
        w = words[i]
        if w == "half" and i + 1 < len(words) and words[i + 1] in ("an", "a") and i + 2 < len(words):
            unit = _UNIT_SECONDS.get(words[i + 2])
            if unit:
                total += unit / 2
                found = True
                i += 3
                continue
        if w == "and" and words[i + 1 : i + 3] == ["a", "half"] and last_unit:
            total += last_unit / 2
            i += 3
            continue
        parsed = parse_number(words[i:])
        if parsed is not None:
            value, used = parsed
            j = i + used
            half = 0.0
            if words[j : j + 3] == ["and", "a", "half"]:
                half, j = 0.5, j + 3
            if j < len(words) and words[j] in _UNIT_SECONDS:
                last_unit = _UNIT_SECONDS[words[j]]
                total += (value + half) * last_unit
                found = True
                i = j + 1
                continue
        i += 1
    return round(total) if found and total > 0 else None


def _say_number(n: int) -> str:
    if n < 20:
        return next(k for k, v in _UNITS.items() if v == n and k not in ("oh", "a", "an", "couple"))
    if n < 100:
        tens = next(k for k, v in TENS.items() if v == n - n % 10)
        return tens if n % 10 == 0 else f"{tens} {_say_number(n % 10)}"
    return str(n)


def say_duration(seconds: int) -> str:
    """Speakable: 90 -> "one minute and thirty seconds"."""
    seconds = max(0, seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    parts = []
    for value, unit in ((hours, "hour"), (minutes, "minute"), (secs, "second")):
        if value:
            parts.append(f"{_say_number(value)} {unit}{'' if value == 1 else 's'}")
    if not parts:
        return "zero seconds"
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def timer_label(seconds: int) -> str:
    """What a user calls a timer: "ten minute", "one hour thirty minute"."""
    return (
        say_duration(seconds)
        .replace(" and ", " ")
        .replace(",", "")
        .replace("minutes", "minute")
        .replace("seconds", "second")
        .replace("hours", "hour")
    )
