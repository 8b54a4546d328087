"""Value formats on the wire, shared by the conventions: each reads and writes one format."""

from __future__ import annotations

import json
import re
from typing import Any

from device_drivers.model import InvalidPayload, kelvin_to_mired, mired_to_kelvin

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
    try:
        return json.loads(payload)
    except (ValueError, UnicodeDecodeError) as err:
        raise InvalidPayload(f"not JSON: {payload[:80]!r}") from err


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
            return max(0, min(100, round(float(raw) * 100 / fmt["hi"])))
        if kind == "mired":
            return mired_to_kelvin(float(raw))
        if kind == "int":
            return round(float(raw))
        if kind == "float":
            return float(raw)
        if kind == "rgb_csv":
            parts = [int(float(p)) for p in str(raw).split(",")]
            if len(parts) != 3:
                raise ValueError(raw)
            return parts
        if kind == "rgb_obj":
            return [int(raw["r"]), int(raw["g"]), int(raw["b"])]
        if kind == "map":
            value = str(raw)
            if value not in fmt["map"]:
                raise InvalidPayload(f"unknown value {value!r}")
            return fmt["map"][value]
        if kind == "str":
            return str(raw)
    except (TypeError, ValueError, KeyError) as err:
        raise InvalidPayload(f"bad {kind} value {raw!r}") from err
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
    if kind == "map":
        reverse = fmt.get("cmd") or {v: k for k, v in fmt["map"].items()}
        if value not in reverse:
            raise InvalidPayload(f"cannot send {value!r}")
        return reverse[value]
    raise InvalidPayload(f"unknown wire format {kind}")


def as_payload(value: Any) -> bytes:
    if isinstance(value, dict | list):
        return json.dumps(value, separators=(",", ":")).encode()
    if isinstance(value, bool):
        return b"true" if value else b"false"
    return str(value).encode()
