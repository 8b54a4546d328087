"""A question about a device sets the conversation's subject, as a command does: "is the porch light
on?" then "ok turn it off" acts on the Porch Light. "did I leave the coffee maker on" is a question
about the Coffee Maker, answered with its real state and nothing switched."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from device_drivers.mosquitto import Mosquitto
from edge_runtime.brain.context import Conversation
from edge_runtime.brain.result import BrainResult
from tests.eval.home import running_home

Turn = tuple[BrainResult, dict[str, dict[str, Any]]]


def _turns(mosquitto: Mosquitto, tmp_path: Path, *conversations: list[str]) -> list[list[Turn]]:
    """Each list of sentences in a conversation of its own: (result, the devices' states after)."""

    async def scenario() -> list[list[Turn]]:
        out: list[list[Turn]] = []
        async with running_home(mosquitto.url, tmp_path / "d.sqlite3") as home:
            for said in conversations:
                conversation, turns = Conversation(), []
                for text in said:
                    result = await home.brain.handle(text, conversation)
                    await asyncio.sleep(0.2)  # any command sent has reached the simulator
                    turns.append((result, home.states()))
                out.append(turns)
        return out

    return asyncio.run(scenario())


def test_a_state_question_sets_what_it_means(mosquitto: Mosquitto, tmp_path: Path) -> None:
    setup, asked, leave = _turns(
        mosquitto,
        tmp_path,
        ["turn on the porch light", "turn on the coffee maker"],
        ["is the porch light on", "ok turn it off"],
        ["did I leave the coffee maker on", "okay turn it off", "did I leave the coffee maker on"],
    )
    assert setup[-1][1]["Porch Light"]["on"] is True and setup[-1][1]["Coffee Maker"]["on"] is True
    (question, before), (command, after) = asked
    assert (question.intent, question.reply) == ("HassGetState", "Yes, the Porch Light is on.")
    assert not question.actions and before["Porch Light"]["on"] is True
    assert command.intent == "HassTurnOff" and [a["name"] for a in command.actions] == ["Porch Light"]
    assert after["Porch Light"]["on"] is False
    assert after["Coffee Maker"]["on"] is True  # only the device asked about
    (left_on, _), (off, states), (again, _) = leave
    assert (left_on.intent, left_on.reply) == ("HassGetState", "Yes, the Coffee Maker is on.")
    assert not left_on.actions
    assert [a["name"] for a in off.actions] == ["Coffee Maker"] and states["Coffee Maker"]["on"] is False
    assert (again.reply, again.actions) == ("No, the Coffee Maker is off.", [])


def test_leave_questions_are_questions(mosquitto: Mosquitto, tmp_path: Path) -> None:
    """HA's other ways to ask, each answered without touching a device."""
    [turns] = _turns(
        mosquitto,
        tmp_path,
        ["is the porch light still on", "was the coffee maker left on", "did we leave the front door unlocked"],
    )
    first_states = turns[0][1]
    for result, states in turns:
        assert result.intent == "HassGetState" and not result.actions, result
        assert states == first_states
    replies = [r.reply for r, _ in turns]
    assert replies == ["No, the Porch Light is off.", "No, the Coffee Maker is off.", "No, the Front Door is locked."]
