"""Alarm clock or alarm system: "set an alarm for 6:30 tomorrow", "cancel my alarm" are the hub's
alarm clock and never touch the home's "Alarm System" switch, while "arm the alarm", "turn on the
alarm" and "disarm the alarm" are device commands that the alarm clock never takes (they go on to
the device routes: in this home, without a small LLM, on to the cloud)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from device_drivers.mosquitto import Mosquitto
from edge_runtime.brain.context import Conversation
from edge_runtime.brain.vocab import Route
from tests.eval.home import running_home

Turn = tuple[Any, list[Any], dict[str, Any]]
DEVICE_COMMANDS = ("arm the alarm", "turn on the alarm", "disarm the alarm", "turn off the alarm", "set the alarm")


def _turns(mosquitto: Mosquitto, tmp_path: Path, said: list[str]) -> list[Turn]:
    """Each sentence: (result, what the Alarm System received, its state after)."""

    async def scenario() -> list[Turn]:
        async def speak(sentence: str, final: bool) -> None:
            return None

        out: list[Turn] = []
        async with running_home(mosquitto.url, tmp_path / "d.sqlite3") as home:
            [panel] = [d for d in home.sim.devices.values() if d.name == "Alarm System"]
            for text in said:
                panel.received.clear()
                if text in DEVICE_COMMANDS:
                    assert home.brain.skills.intent_of(text) == "unknown", text
                result = await home.brain.handle(text, Conversation(), speak)
                await asyncio.sleep(0.2)  # any command sent has reached the simulator
                out.append((result, list(panel.received), dict(panel.state)))
        return out

    return asyncio.run(scenario())


def test_the_alarm_clock_never_touches_the_alarm_system(mosquitto: Mosquitto, tmp_path: Path) -> None:
    said = [
        "set an alarm for 6:30 tomorrow",
        "what alarms do I have",
        "set an alarm for 7:15 pm",
        "cancel my 6:30 alarm",
        "cancel the alarm",
        "set an alarm for 25:99",
        "cancel my alarm",
    ]
    turns = _turns(mosquitto, tmp_path, said)
    before = turns[0][2]
    for text, (result, received, state) in zip(said, turns, strict=True):
        assert result.route == Route.BUILTIN and result.intent.startswith("alarm-"), (text, result)
        assert received == [] and state == before, text
    replies = [r.reply for r, _, _ in turns]
    assert replies[0] == "Your alarm is set for 6:30 AM tomorrow."
    assert replies[1] == "You have one alarm, for 6:30 AM tomorrow."
    assert replies[3] == "Cancelled your alarm for 6:30 AM tomorrow."
    assert replies[4].startswith("Cancelled your alarm for 7:15 PM")
    assert replies[5].startswith("Sorry, 25:99 isn't a time")
    assert replies[6] == "You have no alarms set."


def test_arming_the_alarm_system_is_a_device_command(mosquitto: Mosquitto, tmp_path: Path) -> None:
    """Even with an alarm clock set: "turn off the alarm" (nothing ringing) is the alarm system's."""
    said = ["set an alarm for 6:30 tomorrow", *DEVICE_COMMANDS]
    turns = _turns(mosquitto, tmp_path, said)
    assert turns[0][0].intent == "alarm-set"
    for text, (result, _, _) in zip(said[1:], turns[1:], strict=True):
        assert result.route != Route.BUILTIN and not result.intent.startswith("alarm-"), (text, result)
    by_text = dict(zip(said, turns, strict=True))
    # Arming secures the home: done at once, and said as arming.
    for text in ("arm the alarm", "turn on the alarm"):
        result, received, state = by_text[text]
        assert result.route == Route.LOCAL_INTENT and result.reply == "Armed the Alarm System.", (text, result)
        assert state["on"] is True and received, text
    # Disarming opens it: a question first, and nothing sent.
    for text in ("disarm the alarm", "turn off the alarm"):
        result, received, state = by_text[text]
        assert "needs-confirmation" in result.signals and received == [], (text, result)
        assert result.reply == "Do you want me to disarm the Alarm System?"
    # "set the alarm" may mean the alarm clock: never taken as arming.
    assert by_text["set the alarm"][1] == []
