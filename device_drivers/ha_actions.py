"""Home Assistant platforms that do one thing when told: valves, vacuums, scenes, buttons and selects.

A valve and a vacuum report what they are doing (opening, cleaning, docked) and that report confirms a
command; a scene or a button has no state at all, and a select reports the option it is on.
"""

from __future__ import annotations

from typing import Any

from device_drivers.codec import add_command, add_state
from device_drivers.ha_routes import Attrs, changed, fmt_with
from device_drivers.model import (
    OPTION,
    POSITION,
    PRESS,
    VACUUM_COMMANDS,
    VACUUM_STATE,
    VACUUM_STATES,
    VALVE_STATE,
    InvalidPayload,
)

VALVE_STATES = ("open", "opening", "closed", "closing", "stopped")


def valve(c: dict[str, Any], w: dict[str, Any]) -> Attrs:
    """Open/close payloads and state words as announced; one that reports a position takes a position."""
    if c.get("reports_position"):
        low, high = int(c.get("position_closed", 0)), int(c.get("position_open", 100))
        fmt = {"f": "int"} if (low, high) == (0, 100) else {"f": "ranged", "lo": low, "hi": high}
        add_command(w, c.get("command_topic"), "position", fmt_with(fmt, command=c.get("command_template")))
        add_state(w, c.get("state_topic"), "position", fmt_with(fmt, template=c.get("value_template")))
        return {"position": POSITION}
    commands = {"open": str(c.get("payload_open", "OPEN")), "close": str(c.get("payload_close", "CLOSE"))}
    if c.get("payload_stop") is not None:
        commands["stop"] = str(c["payload_stop"])
    states = {str(c.get(f"state_{s}", s)): s for s in VALVE_STATES}
    states.setdefault(str(c.get("state_closed", "closed")), "closed")
    cmd_fmt = {"f": "map", "map": states, "cmd": commands}
    add_command(w, c.get("command_topic"), "state", fmt_with(cmd_fmt, command=c.get("command_template")))
    add_state(w, c.get("state_topic"), "state", fmt_with({"f": "map", "map": states}, c.get("value_template")))
    options = tuple(dict.fromkeys([*commands, *states.values()]))
    return {"state": changed(VALVE_STATE, options=options)}


def vacuum(c: dict[str, Any], w: dict[str, Any]) -> Attrs:
    """The state schema (HA's only one since 2024.2): plain payloads each way, a JSON state with `state`."""
    commands = {name: str(c.get(f"payload_{name}", name)) for name in VACUUM_COMMANDS}
    fmt = {"f": "map", "map": {s: s for s in VACUUM_STATES}, "cmd": commands}
    add_command(w, c.get("command_topic"), "state", fmt)
    add_state(w, c.get("state_topic"), "state", {"f": "map", "map": fmt["map"]}, ["state"])
    return {"state": VACUUM_STATE}


def _press(c: dict[str, Any], w: dict[str, Any], payload_key: str, default: str) -> Attrs:
    payload = str(c.get(payload_key, default))
    fmt = fmt_with({"f": "onoff", "on": payload, "off": payload}, command=c.get("command_template"))
    add_command(w, c.get("command_topic"), "press", fmt)
    return {"press": PRESS}


def scene(c: dict[str, Any], w: dict[str, Any]) -> Attrs:
    return _press(c, w, "payload_on", "ON")


def button(c: dict[str, Any], w: dict[str, Any]) -> Attrs:
    return _press(c, w, "payload_press", "PRESS")


def select(c: dict[str, Any], w: dict[str, Any]) -> Attrs:
    options = c.get("options")
    if not isinstance(options, list) or not options or not all(isinstance(o, str) for o in options):
        raise InvalidPayload("a select needs 'options', a list of text", code="DEVICE_BAD_CONFIG")
    add_command(w, c.get("command_topic"), "option", fmt_with({"f": "str"}, command=c.get("command_template")))
    add_state(w, c.get("state_topic"), "option", fmt_with({"f": "str"}, c.get("value_template")))
    return {"option": changed(OPTION, options=tuple(options))}
