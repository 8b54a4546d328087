"""When does a state echo confirm a command? Equal, allowing for the wire's rounding."""

from __future__ import annotations

from typing import Any

from device_drivers import Attribute
from device_drivers.color import same_colour

# A cover or valve told to open reports opening, then open; told to stop, whatever it stopped at.
# A vacuum told to start reports cleaning; sent home, returning, then docked.
COVER_ECHOES = {
    "open": {"open", "opening"},
    "close": {"closed", "closing"},
    "stop": {"stopped", "open", "closed", "idle", "docked"},
    "start": {"cleaning"},
    "pause": {"paused"},
    "return_to_base": {"returning", "docked"},
    "clean_spot": {"cleaning"},
}


def matches(attr: Attribute, want: Any, got: Any) -> bool:
    if got is None:
        return False
    if attr.name == "state" and attr.type == "enum":
        return got in COVER_ECHOES.get(want, {want})
    if attr.type == "enum":  # a select's option, however the command spelled it
        return str(got).casefold() == str(want).casefold()
    step = attr.step or 0  # the device's own precision: a 3-speed fan is 33 % per step
    if attr.name == "color_temp":
        return abs(float(got) - float(want)) <= max(0.02 * float(want), step)  # mireds round to 1
    if attr.type == "int":
        return abs(float(got) - float(want)) <= max(1, step)  # 0-100 % travels as 0-255 or 0-254
    if attr.type == "float":
        return abs(float(got) - float(want)) <= max(0.05, step / 2)
    if attr.type == "rgb":  # the colour it reached: its gamut and rounding move it, its hue stays
        return same_colour(want, got)
    return bool(got == want)


def confirmed(attributes: dict[str, Attribute], want: dict[str, Any], state: dict[str, Any]) -> bool:
    """Every value echoed; a colour only while the light shows colour (not its colour temperature)."""
    if "rgb" in want and state.get("color_mode") in ("color_temp", "white", "brightness", "onoff"):
        return False
    if "color_temp" in want and state.get("color_mode") not in (None, "color_temp"):
        return False
    return all(matches(attributes[k], v, state.get(k)) for k, v in want.items())
