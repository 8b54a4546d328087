"""Value formats on the wire, shared by the conventions: each reads and writes one format."""

from __future__ import annotations

import json
import math
import re
from typing import Any

from device_drivers.color import hs_to_rgb, rgb_to_hs, rgb_to_xy, xy_to_rgb
from device_drivers.model import InvalidPayload, kelvin_to_mired, mired_to_kelvin

MAX_DEPTH = 32
MAX_TEXT = 256  # a mode or a reading, never a document
_TEMPLATE = re.compile(r"^\{\{\s*value_json((?:\.[A-Za-z_][\w]*|\[['\"][^'\"]+['\"]\])+)\s*(?:\|\s*\w+\s*)?\}\}$")


def json_path(template: str | None) -> list[str] | None:
    """`{{ value_json.a.b }}` -> ["a", "b"]; other templates are not supported (None)."""
    if not template:
        return None
    match = _TEMPLATE.match(template.strip())
    if not match:
        return None
    return [a or b for a, b in re.findall(r"\.([A-Za-z_]\w*)|\[['\"]([^'\"]+)['\"]\]", match.group(1))]


def dig(data: Any, path: list[str]) -> Any:
    for key in path:
        if not isinstance(data, dict) or key not in data:
            raise InvalidPayload(f"no '{'.'.join(path)}' in payload")
        data = data[key]
    return data


def loads(payload: bytes) -> Any:
    """JSON no deeper than MAX_DEPTH: deeper is no device's and would exhaust the stack further on."""
    try:
        data = json.loads(payload)
    except (ValueError, UnicodeDecodeError, RecursionError) as err:
        raise InvalidPayload(f"not JSON: {payload[:80]!r}") from err
    if _depth(data) > MAX_DEPTH:
        raise InvalidPayload(f"JSON nested deeper than {MAX_DEPTH} levels")
    return data


def _depth(data: Any) -> int:
    """Nesting depth, without recursion (the payload may be as deep as the parser allows)."""
    deepest, stack = 0, [(data, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, level)
            if level > MAX_DEPTH:
                break
            stack.extend((child, level + 1) for child in (item.values() if isinstance(item, dict) else item))
    return deepest


def _number(raw: Any) -> float:
    """A finite number from the wire: inf, NaN and 1e999 are no brightness or temperature."""
    number = float(raw)
    if not math.isfinite(number):
        raise ValueError(f"not finite: {raw!r}")
    return number


def text(payload: bytes) -> str:
    try:
        return payload.decode().strip()
    except UnicodeDecodeError as err:
        raise InvalidPayload(f"not UTF-8: {payload[:80]!r}") from err


def decode_value(fmt: dict[str, Any], raw: Any) -> Any:
    """Wire value -> our value, by the format the convention recorded at discovery."""
    kind = fmt["f"]
    try:
        if kind == "onoff":
            value = str(raw)
            if value == fmt["on"]:
                return True
            if value == fmt["off"]:
                return False
            raise InvalidPayload(f"expected {fmt['on']!r} or {fmt['off']!r}, got {value!r}")
        if kind == "scaled":  # 0..hi on the wire (brightness 255 or 254) -> 0..100 %
            return max(0, min(100, round(_number(raw) * 100 / fmt["hi"])))
        if kind == "mired":
            return mired_to_kelvin(_number(raw))
        if kind == "int":
            return round(_number(raw))
        if kind == "float":
            return _number(raw)
        if kind == "rgb_csv":
            parts = [int(_number(p)) for p in str(raw).split(",")]
            if len(parts) != 3:
                raise ValueError(raw)
            return parts
        if kind == "rgb_obj":
            return [int(_number(raw["r"])), int(_number(raw["g"])), int(_number(raw["b"]))]
        if kind == "color":
            return _colour(raw)
        if kind == "hs_csv":
            hue, sat = (_number(p) for p in str(raw).split(","))
            return hs_to_rgb(hue, sat)
        if kind == "xy_csv":
            x, y = (_number(p) for p in str(raw).split(","))
            return xy_to_rgb(x, y)
        if kind == "ranged":  # speed levels lo..hi -> 0..100 %, 0 stays off (Home Assistant's speed_range)
            level = _number(raw)
            return 0 if level < fmt["lo"] else min(100, round((level - fmt["lo"] + 1) * 100 / _span(fmt)))
        if kind == "map":
            value = str(raw)
            if value not in fmt["map"]:
                raise InvalidPayload(f"unknown value {value!r}")
            return fmt["map"][value]
        if kind == "str":
            return str(raw)[:MAX_TEXT]
    except (TypeError, ValueError, KeyError, OverflowError, ZeroDivisionError) as err:
        raise InvalidPayload(f"bad {kind} value {str(raw)[:80]!r}") from err
    raise InvalidPayload(f"unknown wire format {kind}")


def encode_value(fmt: dict[str, Any], value: Any) -> Any:
    """Our value -> wire value."""
    kind = fmt["f"]
    if kind == "onoff":
        return fmt["on"] if value else fmt["off"]
    if kind == "scaled":
        return max(0, min(fmt["hi"], round(value * fmt["hi"] / 100)))
    if kind == "mired":
        return kelvin_to_mired(value)
    if kind in ("int", "float", "str"):
        return value
    if kind == "rgb_csv":
        return ",".join(str(int(v)) for v in value)
    if kind == "rgb_obj":
        return {"r": value[0], "g": value[1], "b": value[2]}
    if kind == "color":
        return _colour_out(fmt.get("send", "rgb"), value)
    if kind == "hs_csv":
        return "{:g},{:g}".format(*rgb_to_hs(value))
    if kind == "xy_csv":
        return "{:g},{:g}".format(*rgb_to_xy(value))
    if kind == "ranged":
        return 0 if value <= 0 else fmt["lo"] - 1 + math.ceil(value * _span(fmt) / 100)
    if kind == "map":
        reverse = fmt.get("cmd") or {v: k for k, v in fmt["map"].items()}
        if value not in reverse:
            raise InvalidPayload(f"cannot send {value!r}")
        return reverse[value]
    raise InvalidPayload(f"unknown wire format {kind}")


def _span(fmt: dict[str, Any]) -> int:
    return int(fmt["hi"]) - int(fmt["lo"]) + 1


def _colour(raw: Any) -> list[int]:
    """A colour object in any of the shapes devices report: xy, hue/saturation (h/s), or r/g/b."""
    if not isinstance(raw, dict):
        raise ValueError(raw)
    if "x" in raw and "y" in raw:
        return xy_to_rgb(_number(raw["x"]), _number(raw["y"]))
    for hue, sat in (("h", "s"), ("hue", "saturation")):
        if hue in raw and sat in raw:
            return hs_to_rgb(_number(raw[hue]), _number(raw[sat]))
    if {"r", "g", "b"} <= set(raw):
        channels = [round(_number(raw[c])) for c in "rgb"]
        if not all(0 <= c <= 255 for c in channels):
            raise ValueError(raw)
        return channels
    raise ValueError(raw)


def _colour_out(send: str, rgb: list[int]) -> dict[str, Any]:
    if send == "xy":
        x, y = rgb_to_xy(rgb)
        return {"x": x, "y": y}
    if send == "hs":
        hue, sat = rgb_to_hs(rgb)
        return {"h": hue, "s": sat}
    return {"r": rgb[0], "g": rgb[1], "b": rgb[2]}


def as_payload(value: Any) -> bytes:
    if isinstance(value, dict | list):
        return json.dumps(value, separators=(",", ":")).encode()
    if isinstance(value, bool):
        return b"true" if value else b"false"
    return str(value).encode()
