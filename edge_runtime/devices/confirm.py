"""When does a state echo confirm a command? Equal, allowing for the wire's rounding."""

from __future__ import annotations

from typing import Any

from device_drivers import Attribute

# A cover told to open reports opening, then open; told to stop, whatever it stopped at.
COVER_ECHOES = {"open": {"open", "opening"}, "close": {"closed", "closing"},
                "stop": {"stopped", "open", "closed"}}  # fmt: skip


def matches(attr: Attribute, want: Any, got: Any) -> bool:
    if got is None:
        return False
    if attr.name == "state" and attr.type == "enum":
        return got in COVER_ECHOES.get(want, {want})
    if attr.name == "color_temp":
        return abs(float(got) - float(want)) <= 0.02 * float(want)  # mireds round to 1
    if attr.type == "int":
        return abs(float(got) - float(want)) <= 1  # 0-100 % travels as 0-255 or 0-254
    if attr.type == "float":
        return abs(float(got) - float(want)) <= 0.05
    if attr.type == "rgb":
        return all(abs(int(g) - int(w)) <= 2 for g, w in zip(got, want, strict=True))
    return bool(got == want)


def confirmed(attributes: dict[str, Attribute], want: dict[str, Any], state: dict[str, Any]) -> bool:
    return all(matches(attributes[k], v, state.get(k)) for k, v in want.items())
