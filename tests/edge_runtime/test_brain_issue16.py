"""Issue #16's table, every example, through `POST /v1/ask` of a running hub (real broker, the
simulated issue-shaped home in tests/eval/house.toml, the real small LLM): the right action, the
right answer, or an honest "I can't" with nothing sent. After each sentence the devices that
received a command are compared with the ones the sentence asked for, so a wrong action fails
the case that caused it."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

import httpx

from device_drivers.mosquitto import Mosquitto
from models.llm import LLM
from tests.edge_runtime.lan_hub import bearer, lan_hub
from tests.eval.home import HOUSE, home_config

LIGHTS = {
    "Kitchen countertop",
    "Kitchen ceiling",
    "Kitchen cabinets",
    "Living Room Lamp",
    "Living Room Ceiling Light",
    "Reading Light",
    "Hallway Light",
    "Garage Light",
    "Laundry Light",
    "Bedroom Lamp",
    "Bedroom Ceiling Light",
    "Office Light",
    "Desk Lamp",
    "Attic Light",
    "Garden Lights",
}
FANS = {"Kitchen ceiling fan", "Living Room Fan", "Garage Fan", "Bedroom Fan", "Attic Fan"}
FIRST_FLOOR_LIGHTS = {"Bedroom Lamp", "Bedroom Ceiling Light", "Office Light", "Desk Lamp"}
NOTHING: dict[str, Any] = {}

# (what the user says, the reply it must give (a regex), the devices it must command and how).
# Questions come first: the commands after them change the answers.
CASES: list[tuple[str, str, dict[str, Any]]] = [
    # a question never becomes an action
    ("tell me if there are any switches on in the kitchen", r"^Yes, Coffee Maker is on\.$", NOTHING),
    # several devices answered as several
    ("are all the curtains open in the living room?", r"^No, Curtain Right is not open\.$", NOTHING),
    ("how many lights are on in the kitchen?", r"^2 of the 3 lights are on\.$", NOTHING),
    # the whole home
    ("which doors are locked?", r"^Front Door is locked\.$", NOTHING),
    ("how many curtains are closed?", r"^1 of the 2 curtains are closed\.$", NOTHING),
    ("are all switches on?", r"^No, .*Kitchen Switch.* not on\.$", NOTHING),
    # binary sensors and sensors, in their own words and units
    ("is the phone battery low?", r"^Yes, the Phone battery is low\.$", NOTHING),
    ("are any water sensors wet?", r"^Yes, Laundry Leak Sensor is wet\.$", NOTHING),
    ("how many motion sensors are triggered?", r"^2 of the 3 motion sensors are triggered\.$", NOTHING),
    ("what is the air pressure outside?", r"^The Outside Pressure is 1013 hPa\.$", NOTHING),
    ("what is the outside temperature?", r"^The Outside Temperature is 12\.5 °C\.$", NOTHING),
    ("is the secondary garage door open?", r"^No, the Secondary Garage Door is closed\.$", NOTHING),
    # duplicate names: ask which, never pick one silently
    ("is the phone on?", r"^There are 7 devices called Phone: .* Which one do you mean\?$", NOTHING),
    # the small LLM must not act on whatever is in the named room
    ("unlock the kitchen door", r"^There is no lock in the Kitchen\.$", NOTHING),
    ("lock the door in the kitchen", r"^There is no lock in the Kitchen\.$", NOTHING),
    ("pause music in the living room", r"can't control media players", NOTHING),
    ("skip song in living room", r"can't control media players", NOTHING),
    ("play The Office", r"can't control media players", NOTHING),
    ("activate party mode in the kitchen", r"^There is no scene in the Kitchen\.$", NOTHING),
    ("open the garage door in 5 minutes", r"^I won't open the Garage Door later", NOTHING),
    # a fuzzy repair must not cross kinds
    ("set living room volume to 90 percent", r"can't control media players", NOTHING),
    # thermostats: one in the home needs no room; out of range gets the range
    ("set the temperature to 20.5 degrees", r"Office Thermostat", {"Office Thermostat": {"target_temperature": 20.5}}),
    ("set the temperature to 40 degrees", r"between 5 and 35 degrees", NOTHING),
    # word order, and the whole home
    ("turn the lights in the first floor on", r"^Turned on 4 lights\.$", {n: {"on": True} for n in FIRST_FLOOR_LIGHTS}),
    ("turn off all the lights in the house", r"^Turned off 15 lights\.$", {n: {"on": False} for n in LIGHTS}),
    ("turn on every light", r"^Turned on 15 lights\.$", {n: {"on": True} for n in LIGHTS}),
    ("turn all fans off", r"^Turned off 5 fans\.$", {n: {"on": False} for n in FANS}),
    # timers: several, by what they were set for; add and take off time; fractions
    ("set a timer for 10 minutes", r"^Timer set for ten minutes\.$", NOTHING),
    ("add 5 minutes to my timer", r"^Added five minutes to your ten minute timer\.$", NOTHING),
    ("take 5 minutes off my timer", r"^Took five minutes off your ten minute timer\.$", NOTHING),
    ("remove 5 minutes from timer", r"^Took five minutes off your ten minute timer\.$", NOTHING),
    ("timer status", r"^Five minutes left\.$", NOTHING),
    ("set a timer for 1 hour", r"^Timer set for one hour\.$", NOTHING),
    ("status of the 1 hour timer", r"^One hour left\.$", NOTHING),
    ("pause 1 hour timer", r"^Paused your one hour timer\.$", NOTHING),
    ("set a timer for 1/2 an hour", r"^Timer set for thirty minutes\.$", NOTHING),
    ("set a timer for 1 and a 1/2 hours", r"^Timer set for one hour and thirty minutes\.$", NOTHING),
]


def test_every_example_of_the_issue_over_the_lan_api(mosquitto: Mosquitto, tmp_path: Path, llm: LLM) -> None:
    async def scenario() -> list[tuple[str, dict[str, Any], dict[str, list[dict[str, Any]]]]]:
        home = {"config": home_config(HOUSE), "llm": llm}
        out = []
        async with lan_hub(mosquitto.url, tmp_path, home=home) as hub, httpx.AsyncClient(base_url=hub.url) as http:
            token = bearer((await hub.pair(http))["token"])
            for text, _, _ in CASES:
                for device in hub.home.sim.devices.values():
                    device.received.clear()
                answer = (await http.post("/v1/ask", json={"text": text}, headers=token, timeout=60)).json()
                await asyncio.sleep(0.05)  # a stray command would have reached the simulator by now
                received = {d.name: list(d.received) for d in hub.home.sim.devices.values() if d.received}
                out.append((text, answer, received))
        return out

    results = asyncio.run(scenario())
    wrong = []
    for (text, reply, wanted), (_, answer, received) in zip(CASES, results, strict=True):
        acted = {a["name"]: a["values"] for a in answer["actions"]}
        ok = re.search(reply, answer["reply"]) and acted == wanted and set(received) == set(wanted)
        ok = ok and all(a["confirmed"] for a in answer["actions"])
        if not ok:
            wrong.append((text, answer["route"], answer["reply"], acted, sorted(received)))
    assert not wrong, "\n".join(map(str, wrong))
