"""How one of our attributes travels in a Home Assistant config: its state and command routes, with the
config's `*_value_template` as a `tpl` and its `*_command_template` as a `ctpl` (shared by every platform)."""

from __future__ import annotations

from typing import Any

from device_drivers.codec import add_command, add_state
from device_drivers.model import Attribute, InvalidPayload

Attrs = dict[str, Attribute]


def fmt_with(base: dict[str, Any], template: Any = None, command: Any = None) -> dict[str, Any]:
    out = dict(base)
    for key, source in (("tpl", template), ("ctpl", command)):
        if source is None or source == "":
            continue
        if not isinstance(source, str):
            raise InvalidPayload(f"a template must be text, got {type(source).__name__}", code="DEVICE_BAD_TEMPLATE")
        out[key] = source
    return out


def route(
    c: dict[str, Any],
    w: dict[str, Any],
    attr: str,
    topics: tuple[str, str],
    fmt: dict[str, Any],
    templates: tuple[str | None, str | None] = (None, None),
    default_tpl: Any = None,
) -> bool:
    """State and command routes for one attribute; False when the config gives neither topic."""
    cmd, stat = c.get(topics[0]), c.get(topics[1])
    if not (cmd or stat):
        return False
    value_tpl = c.get(templates[0]) if templates[0] else None
    add_command(w, cmd, attr, fmt_with(fmt, command=c.get(templates[1]) if templates[1] else None))
    add_state(w, stat, attr, fmt_with(fmt, template=value_tpl or default_tpl))
    return True


def changed(attr: Attribute, **changes: Any) -> Attribute:
    return Attribute(**{**attr.__dict__, **changes})


def onoff(c: dict[str, Any], on: str = "payload_on", off: str = "payload_off") -> dict[str, Any]:
    return {"f": "onoff", "on": str(c.get(on, "ON")), "off": str(c.get(off, "OFF"))}
