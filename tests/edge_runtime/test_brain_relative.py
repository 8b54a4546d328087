"""The small LLM's tool calls may switch a device on or off only when the sentence says so, and a
relative request ("make it go faster", "can you make it dimmer") is one step on the device in
question by our own rule, never the model's guess and never an on/off switch. A wrong action is
worse than none: a call the sentence does not support sends nothing and reports nothing done."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from device_drivers.mosquitto import Mosquitto
from edge_runtime.brain.context import Conversation
from edge_runtime.brain.tools import implied, relative, stepped, validate
from edge_runtime.devices.registry import DeviceRecord
from tests.eval.home import running_home
from tests.fakes.llm import FakeLLM

Turn = tuple[Any, dict[str, list[Any]], dict[str, dict[str, Any]]]


def _turns(
    mosquitto: Mosquitto, tmp_path: Path, said: list[str], llm: FakeLLM, *, room: str | None = None
) -> list[Turn]:
    """Each sentence in one conversation: (result, what each device received, the states after)."""

    async def scenario() -> list[Turn]:
        async def speak(sentence: str, final: bool) -> None:
            return None

        out: list[Turn] = []
        async with running_home(mosquitto.url, tmp_path / "d.sqlite3", llm=llm, room=room) as home:
            conversation = Conversation()
            for text in said:
                for device in home.sim.devices.values():
                    device.received.clear()
                result = await home.brain.handle(text, conversation, speak)
                await asyncio.sleep(0.2)  # any command sent has reached the simulator
                received = {d.name: list(d.received) for d in home.sim.devices.values() if d.received}
                out.append((result, received, home.states()))
        return out

    return asyncio.run(scenario())


def test_make_it_go_faster_steps_the_fan_and_never_switches_it_off(mosquitto: Mosquitto, tmp_path: Path) -> None:
    # The day's turn: the model answered "faster" with {"on": false}, and the Kids Fan went off.
    llm = FakeLLM(fake_tool_call={"device": "kids fan", "attribute": "on", "value": False})
    (on, _, before), (faster, received, after) = _turns(
        mosquitto, tmp_path, ["turn on the kids fan", "make it go faster"], llm, room="Kids Room"
    )
    assert [a["values"] for a in on.actions] == [{"on": True}] and before["Kids Fan"]["on"] is True
    assert faster.route == "local-llm" and "relative-step" in faster.signals and llm.schemas == []
    assert list(received) == ["Kids Fan"]
    assert after["Kids Fan"]["on"] is True
    assert after["Kids Fan"]["percentage"] > before["Kids Fan"]["percentage"]
    assert [(a["name"], a["values"], a["confirmed"]) for a in faster.actions] == [
        ("Kids Fan", {"percentage": after["Kids Fan"]["percentage"]}, True)
    ]
    assert "off" not in faster.reply.lower()


def test_can_you_make_it_dimmer_dims_the_night_light(mosquitto: Mosquitto, tmp_path: Path) -> None:
    # The day's turn: the model answered "dimmer" with {"on": true}, and the reply said "Turned on".
    llm = FakeLLM(fake_tool_call={"device": "night light", "attribute": "on", "value": True})
    (_, _, before), (dimmer, received, after) = _turns(
        mosquitto, tmp_path, ["turn on the night light", "can you make it dimmer"], llm
    )
    was = before["Night Light"].get("brightness", 100)
    assert dimmer.route == "local-llm" and llm.schemas == []
    assert list(received) == ["Night Light"]
    assert after["Night Light"]["on"] is True and after["Night Light"]["brightness"] == max(1, was - 25)
    assert dimmer.actions[0]["values"] == {"brightness": after["Night Light"]["brightness"]}
    assert not dimmer.reply.startswith("Turned on")


def test_an_on_off_call_the_sentence_does_not_say_sends_nothing(mosquitto: Mosquitto, tmp_path: Path) -> None:
    llm = FakeLLM(fake_tool_call={"device": "kids fan", "attribute": "on", "value": False})
    [(result, received, _)] = _turns(mosquitto, tmp_path, ["the kids fan is making a funny noise"], llm)
    assert llm.schemas, "the model was asked"
    assert result.route == "local-llm" and "tool-invalid" in result.signals
    assert result.data["error"] == "ON_OFF_NOT_SAID" and result.actions == [] and received == {}
    assert "Turned" not in result.reply


def test_a_relative_request_for_a_device_with_nothing_to_step_is_declined(mosquitto: Mosquitto, tmp_path: Path) -> None:
    llm = FakeLLM(fake_tool_call={"device": "printer plug", "attribute": "on", "value": True})
    (_, _, before), (more, received, after) = _turns(
        mosquitto, tmp_path, ["turn off the printer plug", "a bit more"], llm
    )
    assert more.route == "local-llm" and more.data["error"] == "NOTHING_TO_STEP"
    assert more.actions == [] and received == {} and llm.schemas == []
    assert after["Printer Plug"] == before["Printer Plug"]


@pytest.mark.parametrize(
    ("text", "up"),
    [
        ("make it go faster", True),
        ("can you make it dimmer", False),
        ("a bit more", True),
        ("slow the fan down a little", False),
        ("make it warmer", True),
        ("turn it down a bit", False),
        ("turn the fan on", None),  # says on: not relative
        ("dim the desk lamp to 30 percent", None),  # an amount: not relative
        ("make it brighter and then dimmer", None),  # both ways: unsure
        ("it's too dark in the garage", None),
    ],
)
def test_relative_requests(text: str, up: bool | None) -> None:
    assert relative(text) is up


@pytest.mark.parametrize(
    ("text", "on"),
    [
        ("turn on the fan", True),
        ("I'm done with the desk lamp", False),
        ("it's too dark in the garage", True),
        ("it's a bit dark in here", True),
        ("it's too bright in here", False),
        ("make it go faster", None),
        ("can you make it dimmer", None),
        ("the kids fan is making a funny noise", None),
    ],
)
def test_on_or_off_is_the_sentences_to_say(text: str, on: bool | None) -> None:
    assert implied(text) is on


def _records(mosquitto: Mosquitto, tmp_path: Path) -> dict[str, DeviceRecord]:
    async def scenario() -> dict[str, DeviceRecord]:
        async with running_home(mosquitto.url, tmp_path / "r.sqlite3") as home:
            return {r.name: r for r in home.devices.registry.records.values()}

    return asyncio.run(scenario())


def test_validation_and_steps_on_the_records(mosquitto: Mosquitto, tmp_path: Path) -> None:
    records = _records(mosquitto, tmp_path)
    fan, light, heater, plug = (records[n] for n in ("Kids Fan", "Night Light", "Office Heater", "Printer Plug"))
    # The model's on/off answer to a sentence that says neither is refused; to one that says so, the
    # sentence wins over the model ("turn on" with value false is on).
    for rec, text, value in ((fan, "make it go faster", False), (light, "can you make it dimmer", True)):
        call = validate({"device": rec.name.lower(), "attribute": "on", "value": value}, [rec], text)
        assert (call.action, call.error) == (None, "ON_OFF_NOT_SAID")
    call = validate({"device": "kids fan", "attribute": "on", "value": False}, [fan], "turn on the kids fan")
    assert call.action is not None and call.action.values == {"on": True}
    # One step, held to the range: a light is dimmed to 1 at the least, never switched off.
    fan.state.update(on=True, percentage=30)
    assert stepped(fan, True) == {"percentage": 55}
    light.state.update(on=True, brightness=20)
    assert stepped(light, False) == {"brightness": 1}
    light.state.update(brightness=90)
    assert stepped(light, True) == {"brightness": 100}
    heater.state.update(target_temperature=20.0)
    assert stepped(heater, True) == {"target_temperature": 21.0}
    assert stepped(light, True, frozenset({"percentage"})) is None
    assert stepped(plug, True) is None
