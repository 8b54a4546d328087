"""Arithmetic and unit conversion on the hub: many phrasings, spoken numbers, exact replies; and what
is not all a calculation (a device command, a timer, a question half understood) is left alone."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from edge_runtime.skills.builtin import BuiltinSkills
from edge_runtime.skills.calculator import Calculator, number, spoken
from edge_runtime.skills.timers import TimerManager
from tests.fakes.clock import FakeClock


def _skills() -> BuiltinSkills:
    async def ring(timer: object, repeat: int) -> None:
        return None

    clock = FakeClock(datetime(2026, 1, 2, 21, 7, tzinfo=UTC))
    return BuiltinSkills(clock, TimerManager(clock, ring, repeats=1))


@pytest.mark.parametrize(
    ("said", "reply"),
    [
        ("what's 7 times 8", "7 times 8 is 56."),
        ("What's seven times eight?", "7 times 8 is 56."),
        ("what is 15 percent of 80", "15 percent of 80 is 12."),
        ("what's fifteen percent of eighty", "15 percent of 80 is 12."),
        ("what is 15% of 80?", "15 percent of 80 is 12."),
        ("what's 144 divided by 12", "144 divided by 12 is 12."),
        ("what is 2 plus 2", "2 plus 2 is 4."),
        ("What is 2+2?", "2 plus 2 is 4."),
        ("hey jarvis what's two and two", "2 plus 2 is 4."),
        ("how much is 100 minus 58", "100 minus 58 is 42."),
        ("what's 9 x 9", "9 times 9 is 81."),
        ("what does 6 multiplied by 7 equal", "6 times 7 is 42."),
        ("calculate twenty-one plus one hundred and five", "21 plus 105 is 126."),
        ("what's two thousand five hundred minus twelve", "2500 minus 12 is 2488."),
        ("what's 1,000 times 3", "1000 times 3 is 3000."),
        ("what's three point five times two", "3.5 times 2 is 7."),
        ("what's 10 divided by 3", "10 divided by 3 is about 3.33."),
        ("what's 10 over 4", "10 divided by 4 is 2.5."),
        ("what's the square root of 81", "The square root of 81 is 9."),
        ("square root of two", "The square root of 2 is about 1.41."),
        ("what's 12 squared", "12 squared is 144."),
        ("what's 2 to the power of 10", "2 to the power of 10 is 1024."),
        ("what's 144 divided by 0", "You can't divide by zero, so there is no answer to that."),
        ("convert 350 fahrenheit to celsius", "350 degrees Fahrenheit is about 177 degrees Celsius."),
        ("what is 20 degrees celsius in fahrenheit", "20 degrees Celsius is 68 degrees Fahrenheit."),
        ("what's 21 degrees in fahrenheit", "21 degrees Celsius is about 70 degrees Fahrenheit."),
        ("how many grams in a pound", "There are about 453.6 grams in a pound."),
        ("how many grams are there in one pound", "There are about 453.6 grams in a pound."),
        ("how many cups in a liter", "There are about 4.23 cups in a liter."),
        ("how many ml in a cup", "There are about 236.6 milliliters in a cup."),
        ("how many centimeters in an inch", "There are 2.54 centimeters in an inch."),
        ("how many ounces in a cup", "There are 8 fluid ounces in a cup."),
        ("how many feet in a mile", "There are 5280 feet in a mile."),
        ("how many minutes in an hour", "There are 60 minutes in an hour."),
        ("how many kilograms is 10 pounds", "There are about 4.54 kilograms in 10 pounds."),
        ("20 miles in kilometers", "20 miles is about 32.2 kilometers."),
        ("what's five kilometers in miles", "5 kilometers is about 3.11 miles."),
        ("convert 2 cups to milliliters", "2 cups is about 473.2 milliliters."),
    ],
)
def test_answers(said: str, reply: str) -> None:
    skills = _skills()
    found = skills.handle(said)
    assert found.intent in ("calculate", "convert")
    assert found.reply == reply


@pytest.mark.parametrize(
    "said",
    [
        "set the thermostat to 21 degrees",
        "set the thermostat to twenty one degrees",
        "set a timer for 7 minutes",
        "set a timer for seven minutes",
        "turn the lights to 50 percent",
        "dim the kitchen light by 20 percent",
        "how many grams in a cup of flour",  # a density, not a conversion: the cloud's
        "how many grams in a liter",  # a mass from a volume: no answer without a substance
        "how many days until christmas",
        "what time is it in london",
        "what's 7 times",
        "what's 50 percent of the lights",
        "what's seven times eight times nine",  # more than one operation: not read whole
        "tell me a joke",
        "what's the temperature in celsius",
        "what's " + "9" * 400 + " times 2",  # past a float: once an OverflowError that ended the turn
        "what is 10 to the power of 1000000",
        "",
        "what is",
    ],
)
def test_not_calculations(said: str) -> None:
    assert Calculator().solve(said) is None
    assert _skills().intent_of(said) not in ("calculate", "convert")


def test_numbers_and_rounding() -> None:
    assert number(["one", "hundred", "and", "five"], 0) == (105.0, 4)
    assert number(["twenty", "one", "times"], 0) == (21.0, 2)
    assert number(["negative", "four"], 0) == (-4.0, 2)
    assert number(["a", "pound"], 0) is None  # "a" is a number only where it says "one"
    assert number(["twenty", "twenty"], 0) == (20.0, 1)
    assert [spoken(v) for v in (56.0, 3.14159, 176.666, 1234.56, -0.001)] == ["56", "3.14", "176.7", "1235", "0"]


def test_timers_still_work_beside_the_calculator() -> None:
    async def scenario() -> None:
        skills = _skills()
        assert skills.handle("set a timer for seven minutes").reply == "Timer set for seven minutes."
        assert skills.handle("what's 7 times 8").data == {"value": 56.0}
        assert len(skills.timers.active()) == 1
        await skills.timers.close()

    asyncio.run(scenario())
