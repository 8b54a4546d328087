"""Days until a date (skills/dates.py) on the hub's local date, and spelling (skills/spelling.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from edge_runtime.skills.builtin import CANNOT, BuiltinSkills
from edge_runtime.skills.timers import Timer, TimerManager
from tests.fakes.clock import FakeClock


def _skills(at: datetime) -> BuiltinSkills:
    async def ring(timer: Timer, repeat: int) -> None:
        return None

    clock = FakeClock(at)
    return BuiltinSkills(clock, TimerManager(clock, ring))


def _reply(at: datetime, said: str) -> tuple[str, str | None]:
    result = _skills(at).handle(said)
    return result.intent, result.reply


DEC_2 = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("said", "reply"),
    [
        ("how many days until christmas", "Christmas is in 23 days, on Friday, December 25th."),
        ("How many days till Christmas?", "Christmas is in 23 days, on Friday, December 25th."),
        ("how long until new year's", "New Year's Day is in 30 days, on Friday, January 1st, 2027."),
        ("how long until new year's eve", "New Year's Eve is in 29 days, on Thursday, December 31st."),
        ("how many days till halloween", "Halloween is in 333 days, on Sunday, October 31st, 2027."),
        ("how many days until december 25th", "December 25th is in 23 days, on Friday, December 25th."),
        ("how many days until the 25th of december", "December 25th is in 23 days, on Friday, December 25th."),
        ("how many sleeps until christmas", "There are 23 sleeps until Christmas."),
        ("how many weeks until christmas", "Christmas is 3 weeks and 2 days away, on Friday, December 25th."),
        ("how many days until christmas eve", "Christmas Eve is in 22 days, on Thursday, December 24th."),
        ("how many days until valentine's day", "Valentine's Day is in 74 days, on Sunday, February 14th, 2027."),
        ("how many days until the fourth of july", "Independence Day is in 214 days, on Sunday, July 4th, 2027."),
        ("how many days until february 30th", "Sorry, February 30th isn't a date."),
    ],
)
def test_days_until(said: str, reply: str) -> None:
    assert _reply(DEC_2, said) == ("days-until", reply)


def test_the_next_occurrence_counts_today_and_the_hubs_local_date() -> None:
    christmas = datetime(2026, 12, 25, 9, 0, tzinfo=UTC)
    assert _reply(christmas, "how many days until christmas")[1] == "Christmas is today!"
    boxing_day = datetime(2026, 12, 26, 9, 0, tzinfo=UTC)
    assert _reply(boxing_day, "how many days until christmas")[1] == (
        "Christmas is in 364 days, on Saturday, December 25th, 2027."
    )
    eve = datetime(2026, 12, 24, 9, 0, tzinfo=UTC)
    assert _reply(eve, "how many sleeps until christmas")[1] == "Just one more sleep until Christmas!"
    # 03:00 UTC on the 25th is still the evening of the 24th in New York, where the hub is.
    new_york = datetime(2026, 12, 25, 3, 0, tzinfo=UTC).astimezone(ZoneInfo("America/New_York"))
    assert _reply(new_york, "how many days until christmas")[1] == "Christmas is tomorrow."


def test_holidays_on_a_weekday_of_the_month() -> None:
    spring = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    assert (
        _reply(spring, "how many days until thanksgiving")[1]
        == "Thanksgiving is in 270 days, on Thursday, November 26th."
    )
    assert _reply(spring, "how many days until mother's day")[1] == "Mother's Day is in 70 days, on Sunday, May 10th."
    assert _reply(spring, "how many days until father's day")[1] == "Father's Day is in 112 days, on Sunday, June 21st."


@pytest.mark.parametrize(
    "said", ["how many days until easter", "how many days until my birthday", "how long until the game starts"]
)
def test_an_unknown_event_is_not_this_skill(said: str) -> None:
    assert _reply(DEC_2, said) == ("unknown", CANNOT)


@pytest.mark.parametrize(
    ("said", "reply"),
    [
        ("how do you spell necessary", "Necessary is spelled N, E, C, E, S, S, A, R, Y."),
        ("spell necessary", "Necessary is spelled N, E, C, E, S, S, A, R, Y."),
        ("how is 'rhythm' spelled", "Rhythm is spelled R, H, Y, T, H, M."),
        ("Hey Jarvis, how do you spell Wednesday?", "Wednesday is spelled W, E, D, N, E, S, D, A, Y."),
        ("what's the spelling of receive", "Receive is spelled R, E, C, E, I, V, E."),
    ],
)
def test_spelling(said: str, reply: str) -> None:
    assert _reply(DEC_2, said) == ("spell", reply)


@pytest.mark.parametrize(
    "said", ["spell hello world", "spell it", "how is grandma", "spell 42", "what's dinner", "spell " + "a" * 3000]
)
def test_spelling_only_one_word_of_letters(said: str) -> None:
    assert _skills(DEC_2).intent_of(said) != "spell"
