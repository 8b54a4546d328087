"""Discovery is untrusted input: the checks a device must pass before the hub subscribes to or publishes on
anything it announced, and the text it may show.

Mosquitto drops the connection of a client that sends a topic with NUL, a control character or a Unicode
non-character, and paho would send it again on every reconnect; a wildcard in a device's topic would
subscribe the hub to everyone's messages. Wire formats are checked too, so a scale of zero or a NaN range
refuses the device here rather than failing on every later message.
"""

from __future__ import annotations

import math
import re
from typing import Any

from device_drivers.model import Device, DriverError, InvalidPayload
from device_drivers.templates import compile_template

MAX_TOPIC_BYTES = 65_535  # MQTT's limit on a UTF-8 string
MAX_ID_CHARS = 200
MAX_TEXT_CHARS = 100
FORMATS = {
    "onoff",
    "scaled",
    "ranged",
    "mired",
    "int",
    "float",
    "rgb_csv",
    "rgb_obj",
    "color",
    "hs_csv",
    "xy_csv",
    "map",
    "str",
}
_NONCHARACTERS = "".join(chr(plane << 16 | 0xFFFE) + chr(plane << 16 | 0xFFFF) for plane in range(17))
_BAD_IN_TOPIC = re.compile(f"[\x00-\x1f\x7f-\x9f\ufdd0-\ufdef{_NONCHARACTERS}]")
# Control characters, and the bidirectional overrides that reorder what a terminal shows.
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]+")


class BadTopic(DriverError):
    code = "DEVICE_BAD_TOPIC"


def topic_problem(topic: object) -> str | None:
    """Why `topic` cannot be published or subscribed to as one exact topic, or None if it can."""
    if not isinstance(topic, str):
        return f"not a string but {type(topic).__name__}"
    if not topic:
        return "empty"
    if "+" in topic or "#" in topic:
        return "has a wildcard (+ or #)"
    if topic.startswith("$"):
        return "starts with $ (the broker's own topics)"
    try:
        size = len(topic.encode("utf-8"))
    except UnicodeEncodeError:
        return "is not valid UTF-8"
    if size > MAX_TOPIC_BYTES:
        return f"is longer than {MAX_TOPIC_BYTES} bytes"
    bad = _BAD_IN_TOPIC.search(topic)
    if bad:
        return f"has the character U+{ord(bad.group()):04X}, which the broker refuses"
    return None


def check_topic(topic: object, what: str = "topic") -> str:
    problem = topic_problem(topic)
    if problem is not None:
        raise BadTopic(f"{what} {_show(topic)} {problem}")
    assert isinstance(topic, str)
    return topic


def device_topics(device: Device) -> dict[str, set[str]]:
    """The topics a device announced, by role: cmd (the hub publishes), state and avail (it subscribes)."""
    w = device.wiring
    return {
        "cmd": {route[0] for route in w["cmd"].values()},
        "state": set(w["state"]),
        "avail": {a["t"] for a in w["avail"]},
    }


def check_device(device: Device) -> None:
    """Raises BadTopic or InvalidPayload (both coded) if the hub must not take this device."""
    if not device.id or len(device.id) > MAX_ID_CHARS or _UNPRINTABLE.search(device.id):
        raise InvalidPayload(f"device id {_show(device.id)} is empty, too long or unprintable")
    try:
        topics = device_topics(device)
    except (TypeError, KeyError, AttributeError) as err:
        raise InvalidPayload(f"unreadable wiring for {device.id}: {err}") from err
    for role, names in topics.items():
        for topic in names:
            check_topic(topic, f"{device.id}'s {role} topic")
    for attr in device.attributes.values():
        bounds = [b for b in (attr.min, attr.max) if b is not None]
        if not all(isinstance(b, int | float) and math.isfinite(b) for b in bounds):
            raise InvalidPayload(f"{device.id}: '{attr.name}' has a range that is not finite: {bounds}")
        if attr.min is not None and attr.max is not None and attr.min > attr.max:
            raise InvalidPayload(f"{device.id}: '{attr.name}' has min {attr.min} above max {attr.max}")
    routes = [*(r for rs in device.wiring["state"].values() for r in rs), *device.wiring["cmd"].values()]
    for route in routes:
        _check_format(device.id, route[1], route[2])
    for avail in device.wiring["avail"]:
        if avail.get("tpl") is not None:
            compile_template(avail["tpl"])


def _check_format(device_id: str, fmt: Any, path: Any) -> None:
    kind = fmt.get("f") if isinstance(fmt, dict) else None
    problem = None
    if kind not in FORMATS:
        problem = f"unknown wire format {kind!r}"
    elif kind == "scaled" and not (isinstance(fmt.get("hi"), int) and 1 <= fmt["hi"] <= 1_000_000):
        problem = f"a scale must be a whole number from 1 to 1000000, got {fmt.get('hi')!r}"
    elif kind == "ranged" and not all(isinstance(fmt.get(k), int) and 0 <= fmt[k] <= 1000 for k in ("lo", "hi")):
        problem = f"a speed range must be whole numbers from 0 to 1000, got {fmt.get('lo')!r}-{fmt.get('hi')!r}"
    elif kind == "ranged" and fmt["lo"] > fmt["hi"]:
        problem = "a speed range must not end below its start"
    elif kind == "color" and fmt.get("send", "rgb") not in ("rgb", "xy", "hs"):
        problem = f"unknown colour encoding {fmt.get('send')!r}"
    elif kind == "onoff" and not (isinstance(fmt.get("on"), str) and isinstance(fmt.get("off"), str)):
        problem = "on/off payloads must be text"
    elif kind == "map" and not all(_text_map(fmt.get(k, {})) for k in ("map", "cmd")):
        problem = "a value map must map text to text"
    elif path is not None and not (
        isinstance(path, list) and 0 < len(path) <= 8 and all(isinstance(p, str) for p in path)
    ):
        problem = f"bad JSON path {path!r}"
    if problem:
        raise InvalidPayload(f"{device_id}: {problem}")
    for key in ("tpl", "ctpl"):
        if fmt.get(key) is not None:
            compile_template(fmt[key])


def _text_map(value: Any) -> bool:
    return isinstance(value, dict) and all(isinstance(k, str) and isinstance(v, str) for k, v in value.items())


def clean_text(value: Any, limit: int = MAX_TEXT_CHARS) -> str:
    """Printable text: no control characters, no direction overrides, one line, bounded."""
    text = value if isinstance(value, str) else "" if value is None else str(value)
    return " ".join(_UNPRINTABLE.sub(" ", text).split())[:limit]


def tidy(device: Device) -> Device:
    """What a device says about itself, made printable (names reach terminals, speech and apps)."""
    device.name = clean_text(device.name) or device.id
    device.manufacturer = clean_text(device.manufacturer)
    device.model = clean_text(device.model)
    device.area_hint = clean_text(device.area_hint)
    device.device_class = clean_text(device.device_class, 40)
    return device


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
