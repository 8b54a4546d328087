"""The built-in skills as text: unit tests of the parser and replies (no audio)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from edge_runtime.skills.builtin import CANNOT, NO_SPEECH, BuiltinSkills
from edge_runtime.skills.numbers import parse_duration, say_duration
from edge_runtime.skills.timers import TimerManager
from tests.fakes.clock import FakeClock


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("set a timer for ten minutes", 600),
        ("timer for 10 minutes", 600),
        ("an hour and a half", 5400),
        ("two and a half minutes", 150),
        ("one hour 30 minutes", 5400),
        ("ninety seconds", 90),
        ("twenty-five minutes", 1500),
        ("half an hour", 1800),
        ("one hundred and twenty seconds", 120),
        ("5 minutes and 30 seconds", 330),
        ("a timer please", None),
    ],
)
def test_durations(text: str, seconds: int | None) -> None:
    assert parse_duration(text) == seconds


def test_spoken_durations() -> None:
    assert say_duration(90) == "one minute and thirty seconds"
    assert say_duration(3661) == "one hour, one minute and one second"
    assert say_duration(0) == "zero seconds"


def test_skill_routing() -> None:
    async def scenario() -> None:
        clock = FakeClock(datetime(2026, 1, 2, 21, 7, tzinfo=UTC))
        rings: list[int] = []

        async def ring(timer, repeat):  # type: ignore[no-untyped-def]
            rings.append(timer.id)

        skills = BuiltinSkills(clock, TimerManager(clock, ring, repeats=1))
        assert skills.handle("Hey Jarvis, what time is it?").reply == "It's 9:07 PM."
        assert skills.handle("what day is it").reply == "Today is Friday, January 2nd, 2026."
        assert skills.handle("").reply == NO_SPEECH
        assert skills.handle("tell me a joke").reply == CANNOT
        assert skills.handle("set a timer").reply.startswith("For how long?")  # type: ignore[union-attr]
        assert skills.handle("set a timer for 2 days").reply == "Timers can run for up to one day."
        assert skills.handle("set a timer for five minutes").reply == "Timer set for five minutes."
        assert skills.handle("set a 1 minute timer").reply == "Timer set for one minute."
        left = skills.handle("how much time is left on my timers").reply
        assert left == "Your one minute timer has one minute left; your five minute timer has five minutes left."
        await clock.advance(60)
        assert rings == [2]
        assert skills.handle("cancel the timer").reply == "Cancelled your five minute timer."
        assert skills.handle("cancel the timer").reply == "There's no timer to cancel."
        assert skills.handle("stop").intent == "stop" and skills.handle("stop").reply is None
        await skills.timers.close()

    asyncio.run(scenario())
