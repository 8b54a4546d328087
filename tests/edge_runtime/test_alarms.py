"""Alarms and reminders (skills/alarms.py, skills/reminders.py) on a fake clock: due at a wall-clock
time, ringing like timers ("stop" silences them), kept in the timer store across a kill -9."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from edge_runtime.skills.builtin import BuiltinSkills
from edge_runtime.skills.timer_store import TimerStore
from edge_runtime.skills.timers import Timer, TimerManager
from tests.fakes.clock import FakeClock

EVENING = datetime(2026, 1, 2, 20, 0, tzinfo=UTC)  # a Friday, 8 PM
MORNING = datetime(2026, 1, 2, 8, 0, tzinfo=UTC)


class Hub:
    def __init__(self, at: datetime, store: Path | None = None) -> None:
        self.clock = FakeClock(at)
        self.rang: list[tuple[str, str]] = []
        self.timers = TimerManager(self.clock, self._ring, repeats=2, interval_s=5)
        self.store = TimerStore(store) if store is not None else None
        self.back = self.timers.keep_in(self.store) if self.store is not None else []
        self.skills = BuiltinSkills(self.clock, self.timers)

    async def _ring(self, timer: Timer, repeat: int) -> None:
        self.rang.append((self.clock.now().strftime("%a %H:%M"), self.skills.alert_text(timer)))

    def say(self, text: str) -> str:
        return self.skills.handle(text).reply or ""


@pytest.mark.parametrize(
    ("said", "reply"),
    [
        ("set an alarm for 6:30 tomorrow", "Your alarm is set for 6:30 AM tomorrow."),
        ("set an alarm for 6:30", "Your alarm is set for 6:30 AM tomorrow."),  # 6:30 PM has passed
        ("wake me up at 7 am", "Your alarm is set for 7:00 AM tomorrow."),
        ("set an alarm for half past six", "Your alarm is set for 6:30 AM tomorrow."),
        ("set an alarm for quarter to seven", "Your alarm is set for 6:45 AM tomorrow."),
        ("set an alarm for 7:15 pm", "Your alarm is set for 7:15 PM tomorrow."),
        ("Set an alarm for 6.30 a.m.", "Your alarm is set for 6:30 AM tomorrow."),
        ("set a 9:45 alarm", "Your alarm is set for 9:45 PM today."),
        ("set an alarm for 21:30", "Your alarm is set for 9:30 PM today."),
        ("set an alarm for monday at 7", "Your alarm is set for 7:00 AM on Monday."),
        ("wake me up in 20 minutes", "Your alarm is set for 8:20 PM today, twenty minutes from now."),
        ("set an alarm", "For what time? Say, for example, set an alarm for 7 AM tomorrow."),
        (
            "set an alarm for 25:99",
            "Sorry, 25:99 isn't a time on the clock. Say, for example, set an alarm for 6:30 AM.",
        ),
        (
            "set an alarm for 13 pm",
            "Sorry, 13 pm isn't a time on the clock. Say, for example, set an alarm for 6:30 AM.",
        ),
        ("set an alarm for 7 pm today", "It's already past 7:00 PM today. Say, for example, 7:00 PM tomorrow."),
    ],
)
def test_setting_an_alarm(said: str, reply: str) -> None:
    async def scenario() -> None:
        hub = Hub(EVENING)
        assert hub.say(said) == reply
        await hub.timers.close()

    asyncio.run(scenario())


def test_without_am_pm_an_alarm_is_the_next_occurrence() -> None:
    async def scenario() -> None:
        hub = Hub(MORNING)
        assert hub.say("set an alarm for 6:30") == "Your alarm is set for 6:30 PM today."
        assert hub.say("set an alarm for 6:30 tomorrow") == "Your alarm is set for 6:30 AM tomorrow."
        await hub.timers.close()

    asyncio.run(scenario())


def test_alarms_ring_like_timers_and_stop_silences_them() -> None:
    async def scenario() -> None:
        hub = Hub(EVENING)
        hub.say("set an alarm for 6:30 tomorrow")
        hub.say("set a timer for 5 minutes")
        assert hub.say("what alarms do I have") == "You have one alarm, for 6:30 AM tomorrow."
        assert hub.say("how much time is left on my timer") == "Five minutes left."  # timers see no alarms
        await hub.clock.advance(10 * 3600 + 30 * 60)
        assert ("Sat 06:30", "It's 6:30 AM. This is your alarm.") in hub.rang
        hub.say("set an alarm for 6:35 am")
        await hub.clock.advance(5 * 60)
        assert hub.skills.intent_of("turn off the alarm") == "alarm-stop"  # it is ringing
        assert hub.say("stop") == ""
        assert not hub.timers.ringing
        await hub.timers.close()

    asyncio.run(scenario())


def test_cancelling_alarms() -> None:
    async def scenario() -> None:
        hub = Hub(EVENING)
        assert hub.say("cancel my alarm") == "You have no alarms set."
        hub.say("set an alarm for 6:30 tomorrow")
        hub.say("set an alarm for 7:15 pm tomorrow")
        assert hub.say("cancel the alarm") == "Which alarm: 6:30 AM tomorrow or 7:15 PM tomorrow?"
        assert hub.say("cancel my 8 o'clock alarm") == "You have no alarm set for 8:00."
        assert hub.say("cancel my 6:30 alarm") == "Cancelled your alarm for 6:30 AM tomorrow."
        assert hub.say("cancel my alarm") == "Cancelled your alarm for 7:15 PM tomorrow."
        hub.say("set an alarm for 6:30 tomorrow")
        hub.say("set an alarm for 7 am on sunday")
        assert hub.say("cancel all alarms") == "Cancelled 2 alarms."
        assert hub.say("what alarms do I have") == "You have no alarms set."
        assert hub.skills.intent_of("cancel all timers") == "timer-cancel"
        await hub.timers.close()

    asyncio.run(scenario())


@pytest.mark.parametrize(
    "said",
    [
        "arm the alarm",
        "disarm the alarm",
        "turn on the alarm",
        "turn off the alarm",
        "set the alarm",
        "stop the alarm",
        "is the alarm on",
        "set the alarm system",
        "cancel the fire alarm",
    ],
)
def test_the_alarm_system_is_not_the_alarm_clock(said: str) -> None:
    async def scenario() -> None:
        hub = Hub(EVENING)
        hub.say("set an alarm for 6:30 tomorrow")
        assert hub.skills.intent_of(said) == "unknown"
        await hub.timers.close()

    asyncio.run(scenario())


@pytest.mark.parametrize(
    ("said", "reply"),
    [
        ("remind me to call the dentist at 10", "I'll remind you to call the dentist at 10:00 PM."),
        ("remind me in 20 minutes to take the pizza out", "I'll remind you to take the pizza out in twenty minutes."),
        ("remind me tomorrow at 9 to water the plants", "I'll remind you to water the plants at 9:00 AM tomorrow."),
        ("remind me that I need to feed the cat at 11 pm", "I'll remind you to feed the cat at 11:00 PM."),
        ("remind me to take my pills in an hour", "I'll remind you to take your pills in one hour."),
        ("set a reminder for 9:30 pm to lock up", "I'll remind you to lock up at 9:30 PM."),
        ("remind me about the meeting tomorrow at 3", "I'll remind you about the meeting at 3:00 PM tomorrow."),
        (
            "remind me to call mom",
            "When should I remind you? Say, for example, remind me to call the dentist at 10 AM.",
        ),
        ("remind me at 5", "What should I remind you about? Say, for example, remind me to call the dentist at 10 AM."),
        (
            "remind me to buy milk at 25:99",
            "Sorry, 25:99 isn't a time on the clock. Say, for example, remind me to call the dentist at 10 AM.",
        ),
    ],
)
def test_setting_a_reminder(said: str, reply: str) -> None:
    async def scenario() -> None:
        hub = Hub(EVENING)
        assert hub.say(said) == reply
        await hub.timers.close()

    asyncio.run(scenario())


def test_at_10_is_the_next_10_within_12_hours() -> None:
    async def scenario() -> None:
        hub = Hub(MORNING)
        assert hub.say("remind me to call the dentist at 10") == "I'll remind you to call the dentist at 10:00 AM."
        await hub.timers.close()

    asyncio.run(scenario())


def test_reminders_ring_list_and_cancel() -> None:
    async def scenario() -> None:
        hub = Hub(EVENING)
        hub.say("remind me in 20 minutes to take the pizza out")
        hub.say("remind me tomorrow at 9 to water the plants")
        hub.say("remind me to call the dentist at 10")
        assert hub.say("what reminders do I have") == (
            "You have 3 reminders: take the pizza out at 8:20 PM, call the dentist at 10:00 PM"
            " and water the plants at 9:00 AM tomorrow."
        )
        await hub.clock.advance(20 * 60 + 10)
        assert hub.rang == [("Fri 20:20", "Reminder: take the pizza out.")] * 2  # rung twice, like a timer
        assert hub.say("cancel my reminder to call the dentist") == "Cancelled your reminder to call the dentist."
        assert hub.say("cancel all my reminders") == "Cancelled your reminder to water the plants."
        assert hub.say("what reminders do I have") == "You have no reminders."
        await hub.timers.close()

    asyncio.run(scenario())


def test_alarms_and_reminders_come_back_after_a_kill(tmp_path: Path) -> None:
    db = tmp_path / "timers.sqlite3"

    async def scenario() -> None:
        first = Hub(EVENING, db)
        first.say("set an alarm for 6:30 tomorrow")
        first.say("remind me tomorrow at 9 to water the plants")
        first.say("set a timer for 10 minutes")
        # kill -9: nothing closed; the hub is back an hour later, on a new TimerManager and store.
        second = Hub(EVENING + timedelta(hours=1), db)
        assert sorted((t.kind, t.label) for t in second.back) == [
            ("alarm", "alarm"),
            ("reminder", "water the plants"),
        ]  # the 10 minute timer ended while the hub was down, longer ago than it may ring late
        assert second.say("what alarms do I have") == "You have one alarm, for 6:30 AM tomorrow."
        await second.clock.advance(12.5 * 3600)
        assert next(r for r in second.rang if r[1].startswith("It's")) == (
            "Sat 06:30",
            "It's 6:30 AM. This is your alarm.",
        )
        assert ("Sat 09:00", "Reminder: water the plants.") in second.rang
        await second.timers.close()
        for hub in (first, second):
            assert hub.store is not None
            hub.store.close()

    asyncio.run(scenario())


def test_a_store_from_before_alarms_keeps_its_timers(tmp_path: Path) -> None:
    db = tmp_path / "old.sqlite3"
    old = sqlite3.connect(db)
    old.execute(
        "CREATE TABLE timers (id INTEGER PRIMARY KEY, seconds INTEGER NOT NULL, due_wall REAL, paused_left REAL,"
        " name TEXT, area TEXT, command TEXT)"
    )
    old.execute("INSERT INTO timers VALUES (1, 600, ?, NULL, 'pizza', NULL, NULL)", (EVENING.timestamp() + 300,))
    old.commit()
    old.close()
    store = TimerStore(db)
    [row] = store.load()
    assert (row.name, row.kind) == ("pizza", "timer")
    store.close()
