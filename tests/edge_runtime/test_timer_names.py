"""Named timers, the way Home Assistant's timer sentences name them ("a 5 minute timer named pizza",
"cancel pizza timer", "pizza timer status", "add 5 minutes to the pizza timer") and the ways a
household says them ("a timer for 12 minutes for the pasta", "another timer ... called oven"):
a timer set with a name is found by that name, and a name that matches no timer is said so."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest

from edge_runtime.skills.builtin import BuiltinSkills
from edge_runtime.skills.timer_intents import timer_name
from edge_runtime.skills.timer_store import TimerStore
from edge_runtime.skills.timers import Timer, TimerManager
from tests.fakes.clock import FakeClock

START = datetime(2026, 1, 2, 18, 0, tzinfo=UTC)


async def _quiet(timer: Timer, repeat: int) -> None:
    return None


def _skills(clock: FakeClock) -> BuiltinSkills:
    return BuiltinSkills(clock, TimerManager(clock, _quiet, repeats=1), areas=lambda: ["Kitchen", "Living Room"])


@pytest.mark.parametrize(
    ("said", "name", "seconds"),
    [
        # Home Assistant's tests/en/homeassistant_HassStartTimer.yaml
        ("start a 5 minute timer named pizza", "pizza", 300),
        # Home Assistant's sentences: (named|called|for) after "<n> minute timer", (named|called) after the duration
        ("set a 20 minute timer called oven", "oven", 1200),
        ("set a 20 minute timer for the pasta", "pasta", 1200),
        ("set a timer for 10 minutes named pizza", "pizza", 600),
        ("create a timer called bread for 1 hour and 15 minutes", "bread", 4500),
        # The household's day (tests/eval/day.yaml) and ours
        ("set a timer for 12 minutes for the pasta", "pasta", 720),
        ("set another timer for 40 minutes called oven", "oven", 2400),
        ("set a pizza timer for 10 minutes", "pizza", 600),
        ("set a 10 minute pizza timer", "pizza", 600),
        ("set a timer for 2 minutes for the eggs please", "eggs", 120),
        ("set a timer called the Rice Timer for 90 seconds", "rice", 90),
        ("set another timer for two and a half minutes called rice", "rice", 150),
    ],
)
def test_a_timer_is_set_with_its_name(said: str, name: str, seconds: int) -> None:
    async def scenario() -> None:
        skills = _skills(FakeClock(START))
        result = skills.handle(said)
        assert result.intent == "timer-set", said
        [timer] = skills.timers.active()
        assert (timer.name, timer.seconds) == (name, seconds)
        assert result.reply is not None and result.reply.startswith(f"{name.capitalize()} timer set for")
        await skills.timers.close()

    asyncio.run(scenario())


def test_unnamed_timers_and_rooms_stay_unnamed() -> None:
    async def scenario() -> None:
        skills = _skills(FakeClock(START))
        assert skills.handle("set a timer for 10 minutes").reply == "Timer set for ten minutes."
        assert skills.handle("set a timer for 5 minutes for the kitchen").reply == "Timer set for five minutes."
        assert [(t.name, t.area) for t in skills.timers.active()] == [(None, "Kitchen"), (None, None)]
        await skills.timers.close()

    asyncio.run(scenario())


def test_the_pasta_and_the_oven_timers_are_found_by_name() -> None:
    """The day's kitchen: two named timers and an unnamed one, asked after by name."""

    async def scenario() -> None:
        clock = FakeClock(START)
        skills = _skills(clock)
        skills.handle("set a timer for 4 minutes")
        skills.handle("set a timer for 12 minutes for the pasta")
        skills.handle("set another timer for 40 minutes called oven")
        await clock.advance(120)
        # HA's tests/en/homeassistant_HassTimerStatus.yaml phrasings, with our timer's name
        for asked in (
            "how much time is left on the pasta timer",
            "how long is left on the pasta timer",
            "pasta timer status",
            "status of pasta timer",
            "what's left on the pasta timer",
        ):
            status = skills.handle(asked)
            assert (status.intent, status.reply) == ("timer-remaining", "Ten minutes left."), asked
        assert skills.handle("pause the timer named pasta").reply == "Paused your pasta timer."
        assert skills.handle("add 5 minutes to the pasta timer").reply == "Added five minutes to your pasta timer."
        assert skills.handle("how much time is left on the pasta timer").reply == "Fifteen minutes left. It's paused."
        assert skills.handle("resume the pasta timer").reply == "Resumed your pasta timer."
        # HA's tests/en/homeassistant_HassCancelTimer.yaml: "cancel pizza timer", here the oven's
        cancelled = skills.handle("cancel the oven timer")
        assert (cancelled.reply, cancelled.data["cancelled"]) == ("Cancelled your oven timer.", 1)
        assert sorted(t.name or "" for t in skills.timers.active()) == ["", "pasta"]
        await skills.timers.close()

    asyncio.run(scenario())


def test_a_name_no_timer_has_is_said_so() -> None:
    async def scenario() -> None:
        skills = _skills(FakeClock(START))
        assert skills.handle("how much time is left on the pasta timer").reply == "You have no timers running."
        assert skills.handle("cancel the oven timer").reply == "There's no timer to cancel."
        skills.handle("set a timer for 12 minutes for the pasta")
        assert skills.handle("how much time is left on the oven timer").reply == "There's no oven timer."
        assert skills.handle("cancel the oven timer").reply == "There's no oven timer."
        assert skills.handle("pause the oven timer").reply == "There's no oven timer."
        assert skills.handle("cancel the 7 minute timer").reply == "There's no seven minute timer."
        assert [t.name for t in skills.timers.active()] == ["pasta"]  # nothing else was touched
        await skills.timers.close()

    asyncio.run(scenario())


def test_two_timers_with_one_name_are_told_apart_by_length() -> None:
    async def scenario() -> None:
        skills = _skills(FakeClock(START))
        skills.handle("start a 5 minute timer named pizza")
        skills.handle("set a 10 minute pizza timer")
        asked = skills.handle("cancel pizza timer")
        assert asked.reply == "Which timer do you mean: the five minute pizza timer or the ten minute pizza timer?"
        assert len(skills.timers.active()) == 2
        assert skills.handle("cancel the 10 minute timer").reply == "Cancelled your pizza timer."
        assert [t.seconds for t in skills.timers.active()] == [300]
        await skills.timers.close()

    asyncio.run(scenario())


def test_a_named_timer_keeps_its_name_across_a_restart(tmp_path: Path) -> None:
    async def scenario() -> None:
        clock = FakeClock(START)
        store = TimerStore(tmp_path / "timers.sqlite3")
        skills = _skills(clock)
        skills.timers.keep_in(store)
        skills.handle("set a timer for 12 minutes for the pasta")
        await skills.timers.close()
        again = _skills(clock)
        [back] = again.timers.keep_in(store)
        assert back.name == "pasta"
        assert again.handle("how much time is left on the pasta timer").reply == "Twelve minutes left."
        assert again.handle("cancel the pasta timer").reply == "Cancelled your pasta timer."
        assert store.load() == []
        await again.timers.close()

    asyncio.run(scenario())


@pytest.mark.parametrize(
    ("said", "kept"),
    [
        ("pizza ", "pizza"),
        ("the Pasta", "pasta"),
        ("pasta timer", "pasta"),
        ("my  Oven", "oven"),
        ("the", None),
        ("the big roast chicken", "big roast chicken"),
        ("pasta " * 400, None),
    ],
)
def test_timer_names_are_kept_plainly(said: str, kept: str | None) -> None:
    assert timer_name(said) == kept
