"""What Home Assistant would do with a generated case, over the simulator's own state: the labels of
`generate.py`. Written apart from the brain (none of its modules are imported) from HA's intent
helpers: a template's slots select devices by name, domain, device class, area and floor; a
command sets every selected device; a question is answered in the template's response form.
"""

from __future__ import annotations

from typing import Any

OPEN_WORDS = {"open": "open", "closed": "closed", "opening": "opening", "closing": "closing"}
BY_NAME_ONLY = {"scene", "button", "vacuum"}
VACUUM = {"HassVacuumStart": "start", "HassVacuumReturnToBase": "return_to_base"}
TOGGLED = {"light", "switch", "fan"}  # HA's toggle reaches more; ours, on purpose: never a lock or a cover


def targets(case: dict[str, Any], devices: list[dict[str, Any]], floors: dict[str, str]) -> list[dict[str, Any]]:
    slots, intent = case["slots"], case["intent"]
    domains = {slots["domain"]} if slots.get("domain") else set(case["domains"])
    domains = {
        "HassClimateSetTemperature": {"climate"},
        "HassLightSet": {"light"},
        "HassFanSetSpeed": {"fan"},
        "HassVacuumStart": {"vacuum"},
        "HassVacuumReturnToBase": {"vacuum"},
    }.get(intent, domains)
    found = [d for d in devices if not domains or d["kind"] in domains]
    if slots.get("name"):
        wanted = str(slots["name"]).lower()
        found = [d for d in found if wanted in {n.lower() for n in [d["name"], *d.get("aliases", [])]}]
    if slots.get("device_class"):
        found = [d for d in found if d.get("device_class") == slots["device_class"]]
    area = slots.get("area") or (case.get("room") if not (slots.get("name") or slots.get("floor")) else None)
    if area:
        found = [d for d in found if d["area"] == area]
    if slots.get("floor"):
        found = [d for d in found if floors.get(d["area"]) == slots["floor"]]
    if intent == "HassClimateSetTemperature" and not found and area and area == case.get("room"):
        # The hub's room is a preference here, as in HA's single-target match: the home's one thermostat.
        every = [d for d in devices if d["kind"] == "climate"]
        found = every if len(every) == 1 else []
    return found


def command_values(case: dict[str, Any], device: dict[str, Any]) -> dict[str, Any]:
    """The values HA's intent sets on one device, in the device layer's attribute names."""
    intent, slots, kind = case["intent"], case["slots"], device["kind"]
    if kind in BY_NAME_ONLY and not slots.get("name"):
        return {}  # ours, on purpose: a room or floor never presses a button or starts a vacuum
    if intent in VACUUM:
        return {"state": VACUUM[intent]}
    if intent in ("HassTurnOn", "HassTurnOff"):
        on = intent == "HassTurnOn"
        return {
            "cover": {"state": "open" if on else "close"},
            "valve": {"state": "open" if on else "close"},
            "lock": {"locked": on},
            "climate": {"mode": "*" if on else "off"},
            "vacuum": {"state": "start" if on else "stop"},  # ours: HA's vacuums have no turn_on/turn_off
            "scene": {"press": True} if on else {},  # a scene or button is only ever turned on
            "button": {"press": True} if on else {},
            "select": {},
        }.get(kind, {"on": on})
    if intent == "HassLightSet":
        values: dict[str, Any] = {}
        if "brightness" in slots:
            values["brightness"] = round(float(slots["brightness"]))
        if "color" in slots:
            values["rgb"] = "*"
        if "temperature" in slots:
            values["color_temp"] = "*"
        return values
    if intent == "HassSetPosition":  # only what reports a position takes one (HA's SET_POSITION feature)
        if kind == "valve" and "position" not in device.get("features", []):
            return {}
        return {"position": round(float(slots["position"]))}
    if intent == "HassFanSetSpeed":
        return {"percentage": round(float(slots["percentage"]))}
    if intent == "HassClimateSetTemperature":
        return {"target_temperature": float(slots["temperature"])}
    return {}


def in_state(device: dict[str, Any], state: dict[str, Any], wanted: str) -> bool:
    kind = device["kind"]
    if kind == "vacuum":
        return state.get("state") == wanted
    if kind in ("cover", "valve"):
        now = state.get("state")
        now = "open" if now == "stopped" and state.get("position") else ("closed" if now == "stopped" else now)
        return now == OPEN_WORDS.get(wanted, wanted)
    if kind == "lock":
        return bool(state.get("locked")) == (wanted == "locked")
    return bool(state.get("on")) == (wanted == "on")


def expect(
    case: dict[str, Any], devices: list[dict[str, Any]], floors: dict[str, str], states: dict[str, dict[str, Any]]
) -> dict[str, Any]:
    """`actions` (name -> values) for a command; for a question, what the reply must say:
    `yes` (True/False), `count`, `names` (one of which must be said), or `value`."""
    found = targets(case, devices, floors)
    if case["intent"] == "HassToggle":  # each to its other state; only what is plainly on or off
        flips = {d["name"]: {"on": not states[d["id"]].get("on")} for d in found if d["kind"] in TOGGLED}
        return {"actions": flips}
    if case["intent"] != "HassGetState" and case["intent"] != "HassClimateGetTemperature":
        values = {d["name"]: command_values(case, d) for d in found}
        return {"actions": {name: v for name, v in values.items() if v}}
    if case["intent"] == "HassClimateGetTemperature":
        return {"question": True}  # which device answers (a thermostat, or the room's sensor) is ours to pick
    response, wanted = case["response"], str(case["slots"].get("state", ""))
    matched = [d for d in found if wanted and in_state(d, states[d["id"]], wanted)]
    if not found:
        return {"question": True, "yes": False}
    if response in ("one", "default") or not wanted:
        return {"question": True, "names": [d["name"] for d in found]}
    if response in ("one_yesno", "any"):
        return {"question": True, "yes": bool(matched)}
    if response == "all":
        return {"question": True, "yes": len(matched) == len(found)}
    if response == "which":
        return {"question": True, "names": sorted(d["name"] for d in matched)[:1] or None, "yes": bool(matched)}
    return {"question": True, "count": len(matched)}


def check(expected: dict[str, Any], reply: str) -> bool:
    """Whether a question's reply says what HA would."""
    said = reply.strip().lower()
    if "count" in expected:
        first = said.split()[0] if said else ""
        return first in (str(expected["count"]), "no" if expected["count"] == 0 else "")
    if expected.get("names"):
        if not any(n.lower() in said for n in expected["names"]):
            return False
    elif "yes" in expected:
        return said.startswith("yes") == expected["yes"]
    return True
