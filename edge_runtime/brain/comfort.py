"""Comfort complaints: "it's a bit dark in here", "it's freezing", "it's too bright in here".

No device is named: the hub plans the change in the speaker's room (the lights that are off turned
on, the lit ones dimmed a step, the room's heater a degree warmer). One device to change is clearly
meant and is changed; several are proposed, and changed only on a yes (routes.comfort). A room
without such a device, a hub that does not know its room, or a sentence about the weather ("it's
cold outside") is left to the routes after this one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from device_drivers import Kind
from edge_runtime.brain.followups import step_values
from edge_runtime.brain.intents import Action, IntentMatch
from edge_runtime.devices.record import DeviceRecord
from edge_runtime.devices.registry import DeviceRegistry

# A statement about how it feels, not a question: "is it cold outside" asks about the weather.
_FEELING = re.compile(
    r"^(?:oh |gosh |wow |man |ugh |brr+ )?(?:it's|it is|its|it feels|i'm|i am|i feel|we're|we are)"
    r"(?: (?:so|too|a bit|a little|a little bit|rather|really|quite|very|kind of|pretty|getting|way too))*"
    r" (?P<feeling>dark|gloomy|dim|bright|freezing|cold|chilly|hot|boiling|roasting|warm|stuffy)"
    r"(?P<rest>(?: [\w']+)*)$"
)
_ROOM_WORDS = re.compile(r"^(?: in)?(?: here| this room| the (?P<area>[\w' ]+?))?(?: now| today| tonight)?$")
_WANTS = {
    "dark": "brighter",
    "gloomy": "brighter",
    "dim": "brighter",
    "bright": "dimmer",
    "freezing": "warmer",
    "cold": "warmer",
    "chilly": "warmer",
    "hot": "cooler",
    "boiling": "cooler",
    "roasting": "cooler",
    "warm": "cooler",
    "stuffy": "cooler",
}


@dataclass
class Proposal:
    wants: str  # brighter | dimmer | warmer | cooler
    area: str
    matches: list[IntentMatch]
    what: str  # "turn on the Reading Light and the Floor Lamp"


def propose(text: str, registry: DeviceRegistry) -> Proposal | None:
    """The change a complaint asks for in the room it was said in (or the room it names)."""
    said = " ".join(re.sub(r"[^\w' ]+", " ", text.lower()).split())
    m = _FEELING.match(said)
    if not m:
        return None
    room = _ROOM_WORDS.match(m.group("rest"))
    if room is None:
        return None  # "it's cold outside", "it's dark already, isn't it": not about this room
    area = _area(room.group("area"), registry) if room.group("area") else registry.home_area
    if not area:
        return None
    wants = _WANTS[m.group("feeling")]
    if m.group("feeling") in ("warm", "bright") and not {"too", "so"} & set(said.split()):
        return None  # "it's warm in here" may be praise; "too warm" is a complaint
    here = [
        r for r in registry.spoken() if r.area and r.area.casefold() == area.casefold() and r.available is not False
    ]
    matches = _plan(wants, here)
    if not matches:
        return None
    return Proposal(wants, area, matches, _what(wants, [a for m in matches for a in m.actions]))


def _area(words: str, registry: DeviceRegistry) -> str | None:
    areas = {r.area for r in registry.spoken() if r.area}
    return next((a for a in areas if a.casefold() == words.strip().casefold()), None)


def _plan(wants: str, here: list[DeviceRecord]) -> list[IntentMatch]:
    lights = [r for r in here if r.device.kind is Kind.LIGHT]
    if wants == "brighter":
        off = [r for r in lights if not r.state.get("on")]
        if off:
            return [_match("HassTurnOn", [(r, {"on": True}) for r in off])]
        dim = [r for r in lights if "brightness" in r.device.attributes and r.state.get("brightness", 100) < 100]
        return [_match("HassLightSet", [(r, step_values(r, up=True)) for r in dim])] if dim else []
    if wants == "dimmer":
        lit = [r for r in lights if r.state.get("on")]
        dimmable = [r for r in lit if "brightness" in r.device.attributes and r.state.get("brightness", 100) > 1]
        if dimmable:
            return [_match("HassLightSet", [(r, step_values(r, up=False)) for r in dimmable])]
        return [_match("HassTurnOff", [(r, {"on": False}) for r in lit])] if lit else []
    climate = [r for r in here if r.device.kind is Kind.CLIMATE and "target_temperature" in r.device.attributes]
    if climate:
        return [_match("HassClimateSetTemperature", [(r, step_values(r, up=wants == "warmer")) for r in climate])]
    fans = [r for r in here if r.device.kind is Kind.FAN and not r.state.get("on")]
    if wants == "cooler" and fans:
        return [_match("HassTurnOn", [(r, {"on": True}) for r in fans])]
    return []


def _match(intent: str, changes: list[tuple[DeviceRecord, dict[str, object]]]) -> IntentMatch:
    match = IntentMatch(intent, {"ids": [r.id for r, _ in changes]}, combination="comfort")
    match.actions = [Action(r.id, r.name, dict(v), r.device.kind.value) for r, v in changes if v]
    return match


def _what(wants: str, actions: list[Action]) -> str:
    """ "turn on the Sofa Lamp, the Floor Lamp and the Reading Light": the question's words."""
    if any("target_temperature" in a.values for a in actions):
        return " and ".join(
            f"set the {a.name} to {float(str(a.values['target_temperature'])):g} degrees" for a in actions
        )
    names = [f"the {a.name}" for a in actions]
    listed = names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"
    if any("brightness" in a.values for a in actions):
        return f"{'brighten' if wants == 'brighter' else 'dim'} {listed}"
    return f"turn {'on' if actions[0].values.get('on') else 'off'} {listed}"
