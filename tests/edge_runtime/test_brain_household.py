"""Everyday phrasings on the evaluation home: comfort complaints ("it's a bit dark in here"), a remark
after a command ("turn off the tv dinner's ready"), a device called without its room's name ("the
spotlights" in the Kitchen), and "put ... on 50 percent"."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from device_drivers.mosquitto import Mosquitto
from edge_runtime.brain.context import Conversation
from edge_runtime.brain.text import afterthought
from tests.eval.home import running_home

Said = tuple[Any, dict[str, dict[str, Any]]]


def _say(
    mosquitto: Mosquitto, tmp_path: Path, room: str, said: list[str], start: dict[str, Any] | None = None
) -> list[Said]:
    """Each sentence in one conversation, in `room`: (result, the devices it changed and how)."""

    async def scenario() -> list[Said]:
        out: list[Said] = []
        async with running_home(mosquitto.url, tmp_path / "d.sqlite3", room=room) as home:
            for name, state in (start or {}).items():
                [dev] = [d for d in home.sim.devices.values() if d.name == name]
                await home.devices.set(dev.id, state)
            conversation = Conversation()
            for text in said:
                before = home.states()
                result = await home.brain.handle(text, conversation)
                await asyncio.sleep(0.1)
                after = home.states()
                out.append((result, {n: after[n] for n in after if after[n] != before[n]}))
        return out

    return asyncio.run(scenario())


def test_a_complaint_with_several_lights_is_asked_about_then_done_on_yes(mosquitto: Mosquitto, tmp_path: Path) -> None:
    (dark, nothing), (yes, lit), (bright, none) = _say(
        mosquitto, tmp_path, "Living Room", ["it's a bit dark in here", "yes", "it's too bright in here"]
    )
    assert "needs-confirmation" in dark.signals and nothing == {}
    assert dark.reply.startswith("Do you want me to turn on the ") and dark.reply.endswith("?"), dark.reply
    assert all(name in dark.reply for name in ("Sofa Lamp", "Reading Light", "Floor Lamp")), dark.reply
    assert yes.route == "confirm" and yes.reply == "Turned on 3 lights."
    assert set(lit) == {"Sofa Lamp", "Reading Light", "Floor Lamp"} and all(s["on"] for s in lit.values())
    assert "needs-confirmation" in bright.signals and bright.reply.startswith("Do you want me to dim the ")
    assert none == {}


def test_a_complaint_with_one_device_changes_it(mosquitto: Mosquitto, tmp_path: Path) -> None:
    turns = _say(
        mosquitto,
        tmp_path,
        "Office",
        ["it's freezing in here", "it's too dark in the garage", "it's too hot in the bedroom", "no"],
        start={"Office Heater": {"target_temperature": 20}},
    )
    (warmer, heater), (dark, garage), (hot, fan), _ = turns
    assert heater == {"Office Heater": {**heater["Office Heater"], "target_temperature": 21}}, heater
    assert set(garage) == {"Garage Light"} and garage["Garage Light"]["on"] is True
    assert set(fan) == {"Bedroom Fan"} and fan["Bedroom Fan"]["on"] is True
    assert all("needs-confirmation" not in r.signals for r in (warmer, dark, hot))


def test_what_is_not_a_complaint_about_the_room_is_left_alone(mosquitto: Mosquitto, tmp_path: Path) -> None:
    said = ["it's cold outside", "it's warm in here", "is it dark in here", "it's dark already isn't it"]
    for text, (result, changed) in zip(said, _say(mosquitto, tmp_path, "Living Room", said), strict=True):
        assert changed == {} and "needs-confirmation" not in result.signals, (text, result)


def test_a_remark_after_a_command_is_not_part_of_it(mosquitto: Mosquitto, tmp_path: Path) -> None:
    said = ["turn on the tv", "turn off the tv dinner's ready", "lock the front door we're leaving"]
    (_, on), (off, tv), (locked, door) = _say(
        mosquitto, tmp_path, "Kitchen", said, start={"Front Door": {"locked": False}}
    )
    assert on["TV Plug"]["on"] is True
    assert off.reply == "Turned off the TV Plug." and tv["TV Plug"]["on"] is False
    assert locked.reply == "Locked the Front Door." and door["Front Door"]["locked"] is True


def test_afterthought_never_drops_which_device() -> None:
    assert afterthought("turn off the tv dinner's ready") == ("turn off the tv", "dinner's ready")
    assert afterthought("turn on the porch light we're home") == ("turn on the porch light", "we're home")
    assert afterthought("turn on the lamp that's in the hall") is None  # says which lamp
    assert afterthought("turn on the kitchen light") is None


def test_a_device_named_for_its_room_is_called_without_it(mosquitto: Mosquitto, tmp_path: Path) -> None:
    said = [
        "put the spotlights on 50 percent",
        "put the kids fan on 30 percent",
        "put the kitchen blinds at 40 percent",
    ]
    (spotlit, spots), (fanned, fan), (moved, blinds) = _say(mosquitto, tmp_path, "Kitchen", said)
    assert spots["Kitchen Spotlights"]["brightness"] == 50 and spots["Kitchen Spotlights"]["on"] is True
    assert fan["Kids Fan"]["percentage"] == 30
    assert blinds["Kitchen Blinds"]["position"] == 40
    # The reply says what it was set to, as the user would check it by ear.
    assert spotlit.reply == "Set the Kitchen Spotlights to 50%."
    assert fanned.reply == "Set the Kids Fan to 30%."
    assert moved.reply == "Moved the Kitchen Blinds to 40%."


def test_a_setting_is_said_with_its_value_and_a_colour_without(mosquitto: Mosquitto, tmp_path: Path) -> None:
    said = ["set the temperature to 21 degrees", "set the kitchen spotlights to red", "set the kitchen lights to 30%"]
    (heat, _), (red, _), (both, lights) = _say(mosquitto, tmp_path, "Kitchen", said)
    assert heat.reply == "Set the Thermostat to 21 degrees."
    assert red.reply == "Set the Kitchen Spotlights."  # a colour has no value to say here
    assert both.reply == "Set 2 lights to 30%." and {s["brightness"] for s in lights.values()} == {30}


def test_a_named_white_is_set_without_the_words_colour_temperature(mosquitto: Mosquitto, tmp_path: Path) -> None:
    """ "set the spotlights to warm white" as Home Assistant's German sentences take it ("auf Warmweiß"):
    on the hub, to the white's kelvin (a candle light clamped to the bulb's warmest), said back by its
    name; never on a device that is not a light."""
    said = [
        "set the kitchen spotlights to warm white",
        "set the kitchen lights to daylight",
        "make the sofa lamp candle light",
        "set the front door to warm white",
        "set the thermostat to warm white",
        "set the living room to cool white",  # an area: its lights, as "set the kitchen to red" is
    ]
    (warm, spots), (day, both), (candle, sofa), (door, untouched), (heat, unheated), (room, lamps) = _say(
        mosquitto, tmp_path, "Kitchen", said
    )
    assert warm.route == "local-intent" and warm.intent == "HassLightSet", warm.reply
    assert set(spots) == {"Kitchen Spotlights"} and abs(spots["Kitchen Spotlights"]["color_temp"] - 2700) < 20
    assert warm.reply == "Set the Kitchen Spotlights to warm white."  # the white as it was said
    assert set(both) == {"Kitchen Light", "Kitchen Spotlights"} and day.reply == "Set 2 lights to daylight."
    assert all(abs(s["color_temp"] - 6500) < 20 for s in both.values())
    assert candle.reply == "Set the Sofa Lamp to candle light." and set(sofa) == {"Sofa Lamp"}
    assert sofa["Sofa Lamp"]["color_temp"] >= 1900 and sofa["Sofa Lamp"]["color_temp"] < 2700  # its warmest
    assert untouched == {} and unheated == {}, (door.reply, heat.reply)
    assert set(lamps) == {"Sofa Lamp", "Reading Light", "Floor Lamp"} and room.reply == "Set 3 lights to cool white."
    assert all(abs(s["color_temp"] - 4000) < 20 for s in lamps.values())


def test_a_device_the_home_lacks_is_said_so_on_the_hub(mosquitto: Mosquitto, tmp_path: Path) -> None:
    said = ["turn on the extractor fan", "turn on the fan in the attic", "put the front door on 50 percent"]
    (fan, none), (attic, nothing), (door, untouched) = _say(mosquitto, tmp_path, "Kitchen", said)
    assert fan.route == "local-intent" and fan.reply == "I don't know a device called extractor fan." and none == {}
    assert attic.reply == "I don't know a room called attic." and nothing == {}
    # The device is there; what was asked of it is not something it does.
    assert door.reply == "I'm not sure what to do with the Front Door." and untouched == {}


def test_and_after_adding_to_a_list_adds_to_the_same_list(mosquitto: Mosquitto, tmp_path: Path) -> None:
    async def scenario() -> list[str]:
        from sync.document import SyncedDoc

        async with running_home(mosquitto.url, tmp_path / "d.sqlite3", doc=SyncedDoc()) as home:
            conversation = Conversation()
            said = [
                "add milk to the shopping list",
                "and eggs",
                "and some bread too",
                "and then turn on the tv",  # a request of its own, never an item
                "and cheese",  # the turn before added nothing
            ]
            replies = [(await home.brain.handle(text, conversation)).reply for text in said]
            replies.append((await home.brain.handle("what's on my shopping list", conversation)).reply)
            return replies

    replies = asyncio.run(scenario())
    assert replies[1:3] == ["Added eggs", "Added bread"]
    assert "cheese" not in replies[-1] and replies[-1] == "Your shopping list has milk, eggs and bread.", replies


def test_a_question_about_a_rooms_lights_without_any_or_all_is_answered_not_obeyed(
    mosquitto: Mosquitto, tmp_path: Path
) -> None:
    """ "Are the kitchen lights on?" in the word orders people use beside Home Assistant's, which asks
    "are all the lights on in the kitchen": answered as "are all" is, and never read as a command (it
    once parsed as "turn on" a device called "are the kitchen")."""
    said = [
        "are the kitchen lights on?",
        "are the lights in the kitchen on?",
        "are the lights on in the kitchen",
        "are all lights in the kitchen on?",
        "are any lights in the kitchen on?",
        "are the living room fans off",
    ]
    answers = _say(mosquitto, tmp_path, "Hallway", said, start={"Kitchen Light": {"on": True}})
    for text, (result, changed) in zip(said, answers, strict=True):
        assert result.route == "local-intent" and result.intent == "HassGetState", (text, result.reply)
        assert changed == {}, (text, changed)
    replies = [result.reply for result, _ in answers]
    assert replies[:4] == ["No, Kitchen Spotlights is not on."] * 4
    assert replies[4] == "Yes, Kitchen Light is on."
    assert replies[5] == "Yes, Ceiling Fan is off."  # one fan: not "all 1 fans are off"


def test_a_state_word_picks_among_devices_of_one_name(mosquitto: Mosquitto, tmp_path: Path) -> None:
    """A smart lock and a contact sensor on the same door, both called "Back Door": "locked" is the
    lock's word and "open" the sensor's, as Home Assistant picks a binary sensor's class by its states."""
    config = {
        "devices": [
            {"id": "back_lock", "name": "Back Door", "kind": "lock", "area": "Hallway", "state": {"locked": True}},
            {
                "id": "back_contact",
                "name": "Back Door",
                "kind": "binary_sensor",
                "device_class": "door",
                "area": "Hallway",
                "state": {"on": True},
            },
            {"id": "washer", "name": "Washer", "kind": "binary_sensor", "area": "Hallway", "state": {"on": True}},
        ]
    }

    async def scenario() -> list[Any]:
        async with running_home(mosquitto.url, tmp_path / "d.sqlite3", config=config) as home:
            said = [
                "is the back door locked?",
                "is the back door open?",
                "is the back door closed?",
                "is the back door on?",
                "is the washer running?",  # no device class: its own state, not "there is no running sensor"
            ]
            return [(await home.brain.handle(text, Conversation())).reply for text in said]

    locked, opened, closed, either, washer = asyncio.run(scenario())
    assert locked == "Yes, the Back Door is locked."
    assert opened == "Yes, the Back Door is open." and closed == "No, the Back Door is open."
    assert either == "Yes, the Back Door is open."  # "on" is a sensor's word: a lock is never "on"
    assert washer == "Yes, the Washer is on."


def test_a_question_or_an_exception_is_never_taken_for_a_device_name(mosquitto: Mosquitto, tmp_path: Path) -> None:
    """Words that read into a name's or a room's place ("why is the kitchen light on") are not a device
    the home lacks: no "I don't know a device called why is the kitchen", and nothing is done; a real
    unknown device is still said so."""
    said = [
        "why is the kitchen light on?",
        "I don't want the sofa lamp on",
        "turn off the lights but not the sofa lamp",
        "turn on the extractor fan",
    ]
    answers = _say(mosquitto, tmp_path, "Living Room", said)
    for text, (result, changed) in zip(said[:3], answers, strict=False):
        assert "device called" not in result.reply and "room called" not in result.reply, (text, result.reply)
        assert changed == {}, (text, changed)
    unknown, nothing = answers[3]
    assert unknown.reply == "I don't know a device called extractor fan." and nothing == {}


def test_toggle_flips_each_light_switch_or_fan_and_never_a_lock(mosquitto: Mosquitto, tmp_path: Path) -> None:
    """ "toggle the kitchen lights" as Home Assistant's newer sentences have it: each to its other state
    (one on, one off: both change, and the reply says toggled); a lock is never toggled."""
    said = ["toggle the kitchen lights", "toggle the coffee maker", "toggle the front door", "toggle the lights"]
    (both, lights), (coffee, maker), (door, untouched), (here, living) = _say(
        mosquitto, tmp_path, "Living Room", said, start={"Kitchen Light": {"on": True}}
    )
    assert both.intent == "HassToggle" and both.reply == "Toggled 2 lights.", both.reply
    assert lights["Kitchen Light"]["on"] is False and lights["Kitchen Spotlights"]["on"] is True
    assert coffee.reply == "Turned on the Coffee Maker." and maker["Coffee Maker"]["on"] is True
    assert untouched == {}, door.reply
    assert set(living) == {"Sofa Lamp", "Reading Light", "Floor Lamp"} and here.reply == "Turned on 3 lights."
