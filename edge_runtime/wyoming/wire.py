"""Wyoming framing with limits: a JSON header line, optional JSON data, optional binary payload.

The `wyoming` package's own reader trusts the lengths a client announces and reads them whole;
a hub on a LAN must not, so each part is checked against `Limits` before a byte of it is read.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any

from wyoming.event import Event, async_write_event

from edge_runtime.wyoming.errors import BadEvent, PayloadTooLarge

MAX_TYPE_CHARS = 64


@dataclass(frozen=True)
class Limits:
    header_bytes: int = 8 * 1024  # the JSON line; asyncio's stream limit enforces it
    data_bytes: int = 64 * 1024  # JSON data after the header (text to speak, info)
    payload_bytes: int = 256 * 1024  # one audio chunk: 1.3 s of 48 kHz stereo, 8 s of what HA sends
    write_timeout_s: float = 10.0  # a client that stops reading is dropped, not waited for


async def read_event(reader: asyncio.StreamReader, limits: Limits) -> Event | None:
    """The next event, or None when the client closed cleanly between events."""
    try:
        line = await reader.readuntil(b"\n")
    except asyncio.IncompleteReadError as err:
        if err.partial.strip():
            raise BadEvent("the connection closed in the middle of an event") from None
        return None
    except asyncio.LimitOverrunError:
        raise PayloadTooLarge(f"event header over {limits.header_bytes} bytes") from None
    header = _header(line)
    data = header.get("data") or {}
    if not isinstance(data, dict):
        raise BadEvent("event 'data' must be a JSON object")
    data_length = _length(header, "data_length", limits.data_bytes)
    if data_length:
        extra = _json_object(await _exactly(reader, data_length), "data")
        data = {**data, **extra}
    payload_length = _length(header, "payload_length", limits.payload_bytes)
    payload = await _exactly(reader, payload_length) if payload_length else None
    return Event(type=header["type"], data=data, payload=payload)


async def write_event(event: Event, writer: asyncio.StreamWriter, limits: Limits) -> None:
    await asyncio.wait_for(async_write_event(event, writer), limits.write_timeout_s)


def _header(line: bytes) -> dict[str, Any]:
    header = _json_object(line, "header")
    kind = header.get("type")
    if not isinstance(kind, str) or not kind or len(kind) > MAX_TYPE_CHARS:
        raise BadEvent("event header needs a 'type' string")
    return header


def _json_object(raw: bytes, what: str) -> dict[str, Any]:
    try:
        value = json.loads(raw)
    except (UnicodeDecodeError, ValueError):
        raise BadEvent(f"event {what} is not JSON") from None
    if not isinstance(value, dict):
        raise BadEvent(f"event {what} must be a JSON object")
    return value


def _length(header: dict[str, Any], key: str, limit: int) -> int:
    value = header.get(key)
    if value is None:
        return 0
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise BadEvent(f"'{key}' must be a non-negative integer")
    if value > limit:
        raise PayloadTooLarge(f"'{key}' {value} is over the limit of {limit} bytes")
    return value


async def _exactly(reader: asyncio.StreamReader, n: int) -> bytes:
    try:
        return await reader.readexactly(n)
    except asyncio.IncompleteReadError:
        raise BadEvent("the connection closed in the middle of an event") from None
