"""One parser per Home Assistant platform the hub supports: which topic, template and format carries each of
our attributes, and the ranges the device announced (mireds, brightness scale, speed range, temperatures).

Every `*_value_template` becomes a `tpl` on its state route and every `*_command_template` a `ctpl` on its
command route; both are evaluated by `templates` (Jinja's sandbox), as Home Assistant evaluates them.
"""

from __future__ import annotations

import math
from typing import Any

from device_drivers.codec import add_command, add_state
from device_drivers.ha_actions import button, scene, select, vacuum, valve
from device_drivers.ha_routes import Attrs, changed, fmt_with, onoff, route
from device_drivers.model import (
    BRIGHTNESS,
    COLOR_TEMP,
    CURRENT_TEMP,
    LOCKED,
    MODE,
    ON,
    PERCENTAGE,
    POSITION,
    RGB,
    TARGET_TEMP,
    Attribute,
    mired_to_kelvin,
)

NUMERIC_CLASSES = {
    "temperature",
    "humidity",
    "pressure",
    "illuminance",
    "battery",
    "voltage",
    "current",
    "power",
    "energy",
    "carbon_dioxide",
    "pm25",
    "pm10",
    "signal_strength",
    "gas",
    "water",
    "speed",
}


def colour_temp(c: dict[str, Any], kelvin: bool) -> tuple[dict[str, Any], Attribute]:
    """The colour temperature format and its range in kelvin, from mireds or kelvin as announced."""
    if kelvin:
        low, high = int(c.get("min_kelvin", 2000)), int(c.get("max_kelvin", 6535))
        return {"f": "int"}, changed(COLOR_TEMP, min=low, max=high, step=1)
    warm, cold = float(c.get("max_mireds", 500)), float(c.get("min_mireds", 153))
    low, high = math.ceil(1_000_000 / warm), math.floor(1_000_000 / cold)
    return {"f": "mired"}, changed(COLOR_TEMP, min=low, max=high, step=round(high - mired_to_kelvin(cold + 1)))


def brightness(c: dict[str, Any]) -> tuple[dict[str, Any], Attribute]:
    scale = int(c.get("brightness_scale", 255))
    return {"f": "scaled", "hi": scale}, changed(BRIGHTNESS, step=round(100 / scale, 3))


def light(c: dict[str, Any], w: dict[str, Any]) -> Attrs:
    schema = c.get("schema", "basic")
    if schema == "json":
        return _json_light(c, w)
    default = c.get("value_template")  # the basic schema's fallback for every value template
    attrs: Attrs = {}
    if route(c, w, "on", ("command_topic", "state_topic"), onoff(c), ("state_value_template", None), default):
        attrs["on"] = ON
    fmt, attr = brightness(c)
    if route(
        c,
        w,
        "brightness",
        ("brightness_command_topic", "brightness_state_topic"),
        fmt,
        ("brightness_value_template", "brightness_command_template"),
        default,
    ):
        attrs["brightness"] = attr
    fmt, attr = colour_temp(c, bool(c.get("color_temp_kelvin")))
    if route(
        c,
        w,
        "color_temp",
        ("color_temp_command_topic", "color_temp_state_topic"),
        fmt,
        ("color_temp_value_template", "color_temp_command_template"),
        default,
    ):
        attrs["color_temp"] = attr
    for mode, f in (("rgb", "rgb_csv"), ("hs", "hs_csv"), ("xy", "xy_csv")):
        if "rgb" not in attrs and route(
            c,
            w,
            "rgb",
            (f"{mode}_command_topic", f"{mode}_state_topic"),
            {"f": f},
            (f"{mode}_value_template", f"{mode}_command_template"),
            default,
        ):
            attrs["rgb"] = RGB
    if c.get("color_mode_state_topic"):
        add_state(
            w,
            c["color_mode_state_topic"],
            "color_mode",
            fmt_with({"f": "str"}, c.get("color_mode_value_template") or default),
        )
        attrs["color_mode"] = Attribute("color_mode", "str", writable=False)
    return attrs


def _json_light(c: dict[str, Any], w: dict[str, Any]) -> Attrs:
    """One JSON object each way: `{"state":"ON","brightness":..,"color_mode":"xy","color":{"x":..,"y":..}}`."""
    cmd, stat = c.get("command_topic"), c.get("state_topic")
    attrs: Attrs = {}

    def key(attr: str, fmt: dict[str, Any], path: str, found: Attribute) -> None:
        add_command(w, cmd, attr, fmt, [path])
        add_state(w, stat, attr, fmt, [path])
        attrs[attr] = found

    key("on", {"f": "onoff", "on": "ON", "off": "OFF"}, "state", ON)
    modes = {str(m) for m in c.get("supported_color_modes") or []}
    modes |= {m for m in ("color_temp", "hs", "xy", "rgb") if c.get(m) is True}  # the legacy flags
    if c.get("brightness") or modes - {"onoff"}:
        fmt, attr = brightness(c)
        key("brightness", fmt, "brightness", attr)
    if "color_temp" in modes:
        fmt, attr = colour_temp(c, bool(c.get("color_temp_kelvin")))
        key("color_temp", fmt, "color_temp", attr)
    send = next((m for m in ("rgb", "xy", "hs") if m in modes or (m == "rgb" and modes & {"rgbw", "rgbww"})), None)
    if send is not None:
        key("rgb", {"f": "color", "send": send}, "color", RGB)
    if modes - {"onoff", "brightness"}:
        add_state(w, stat, "color_mode", {"f": "str"}, ["color_mode"])
        attrs["color_mode"] = Attribute("color_mode", "str", writable=False)
    return attrs


def switch(c: dict[str, Any], w: dict[str, Any]) -> Attrs:
    state = {
        "f": "onoff",
        "on": str(c.get("state_on", c.get("payload_on", "ON"))),
        "off": str(c.get("state_off", c.get("payload_off", "OFF"))),
    }
    add_command(w, c.get("command_topic"), "on", fmt_with(onoff(c), command=c.get("command_template")))
    add_state(w, c.get("state_topic"), "on", fmt_with(state, template=c.get("value_template")))
    return {"on": ON}


def fan(c: dict[str, Any], w: dict[str, Any]) -> Attrs:
    add_command(w, c.get("command_topic"), "on", fmt_with(onoff(c), command=c.get("command_template")))
    add_state(w, c.get("state_topic"), "on", fmt_with(onoff(c), template=c.get("state_value_template")))
    attrs = {"on": ON}
    low, high = int(c.get("speed_range_min", 1)), int(c.get("speed_range_max", 100))
    fmt = {"f": "int"} if (low, high) == (1, 100) else {"f": "ranged", "lo": low, "hi": high}
    if route(
        c,
        w,
        "percentage",
        ("percentage_command_topic", "percentage_state_topic"),
        fmt,
        ("percentage_value_template", "percentage_command_template"),
    ):
        attrs["percentage"] = changed(PERCENTAGE, step=round(100 / (high - low + 1), 3))
    return attrs


def cover(c: dict[str, Any], w: dict[str, Any]) -> Attrs:
    commands = {
        "open": str(c.get("payload_open", "OPEN")),
        "close": str(c.get("payload_close", "CLOSE")),
        "stop": str(c.get("payload_stop", "STOP")),
    }
    states = {str(c.get(f"state_{s}", s)): s for s in ("open", "closed", "opening", "closing", "stopped")}
    fmt = {"f": "map", "map": states, "cmd": commands}
    add_command(w, c.get("command_topic"), "state", fmt)
    add_state(w, c.get("state_topic"), "state", fmt_with({"f": "map", "map": states}, c.get("value_template")))
    attrs: Attrs = {}
    if c.get("command_topic") or c.get("state_topic"):
        attrs["state"] = Attribute("state", "enum", options=tuple(dict.fromkeys([*commands, *states.values()])))
    if route(
        c,
        w,
        "position",
        ("set_position_topic", "position_topic"),
        {"f": "int"},
        ("position_template", "set_position_template"),
    ):
        attrs["position"] = POSITION
    return attrs


def lock(c: dict[str, Any], w: dict[str, Any]) -> Attrs:
    command = {"f": "onoff", "on": str(c.get("payload_lock", "LOCK")), "off": str(c.get("payload_unlock", "UNLOCK"))}
    state = {"f": "onoff", "on": str(c.get("state_locked", "LOCKED")), "off": str(c.get("state_unlocked", "UNLOCKED"))}
    add_command(w, c.get("command_topic"), "locked", fmt_with(command, command=c.get("command_template")))
    add_state(w, c.get("state_topic"), "locked", fmt_with(state, template=c.get("value_template")))
    return {"locked": LOCKED}


def climate(c: dict[str, Any], w: dict[str, Any]) -> Attrs:
    attrs: Attrs = {}
    modes = tuple(str(m) for m in c.get("modes") or MODE.options)
    if route(
        c,
        w,
        "mode",
        ("mode_command_topic", "mode_state_topic"),
        {"f": "str"},
        ("mode_state_template", "mode_command_template"),
    ):
        attrs["mode"] = changed(MODE, options=modes)
    fahrenheit = str(c.get("temperature_unit", "C")).upper() == "F"
    low, high = c.get("min_temp", 45 if fahrenheit else 7), c.get("max_temp", 95 if fahrenheit else 35)
    step = float(c.get("temp_step", 1 if fahrenheit else 0.5))
    if route(
        c,
        w,
        "target_temperature",
        ("temperature_command_topic", "temperature_state_topic"),
        {"f": "float"},
        ("temperature_state_template", "temperature_command_template"),
    ):
        attrs["target_temperature"] = changed(
            TARGET_TEMP, min=float(low), max=float(high), step=step, unit="°F" if fahrenheit else "°C"
        )
    if c.get("current_temperature_topic"):
        add_state(
            w,
            c["current_temperature_topic"],
            "current_temperature",
            fmt_with({"f": "float"}, c.get("current_temperature_template")),
        )
        attrs["current_temperature"] = changed(CURRENT_TEMP, unit="°F" if fahrenheit else "°C")
    return attrs


def sensor(c: dict[str, Any], w: dict[str, Any]) -> Attrs:
    unit = c.get("unit_of_measurement")
    numeric = bool(unit or c.get("state_class") or c.get("device_class") in NUMERIC_CLASSES)
    fmt = {"f": "float" if numeric else "str"}
    add_state(w, c.get("state_topic"), "value", fmt_with(fmt, c.get("value_template")))
    return {"value": Attribute("value", fmt["f"], writable=False, unit=str(unit) if unit else None)}


def binary_sensor(c: dict[str, Any], w: dict[str, Any]) -> Attrs:
    add_state(w, c.get("state_topic"), "on", fmt_with(onoff(c), c.get("value_template")))
    return {"on": Attribute("on", "bool", writable=False)}


PLATFORMS = {
    "light": light,
    "switch": switch,
    "fan": fan,
    "cover": cover,
    "lock": lock,
    "climate": climate,
    "sensor": sensor,
    "binary_sensor": binary_sensor,
    "valve": valve,
    "vacuum": vacuum,
    "scene": scene,
    "button": button,
    "select": select,
}
