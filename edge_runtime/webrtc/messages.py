"""Data-channel messages, app -> hub, in the project's typed-message style (`{"type": ...}`).

Parsing never raises anything but a coded WebRtcError, so one bad message costs the sender an
`error` reply and nothing else. Hub -> app messages are plain dicts built by `event()`.
"""

from __future__ import annotations

import json
import time
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from edge_runtime.webrtc import errors
from edge_runtime.webrtc.errors import WebRtcError


class _Msg(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class Chat(_Msg):
    """Typed text: the same brain and conversation as speech; the reply comes back as text and audio."""

    type: Literal["chat"]
    text: str = Field(min_length=1, max_length=2000)


class Ptt(_Msg):
    """Push-to-talk: pressed opens the turn without the wake word; release ends it."""

    type: Literal["ptt"]
    pressed: bool


class InterruptMsg(_Msg):
    """Barge-in from the app's UI: stop the reply now."""

    type: Literal["interrupt"]


class Ping(_Msg):
    """Latency probe: echoed as `pong` with the client's own timestamp."""

    type: Literal["ping"]
    t: int | float | str | None = None  # whatever clock the app uses; echoed as sent


ClientMessage = Annotated[Chat | Ptt | InterruptMsg | Ping, Field(discriminator="type")]
_adapter: TypeAdapter[Chat | Ptt | InterruptMsg | Ping] = TypeAdapter(ClientMessage)
KNOWN = ("chat", "ptt", "interrupt", "ping")


def parse(raw: str | bytes, *, max_bytes: int) -> Chat | Ptt | InterruptMsg | Ping:
    if isinstance(raw, bytes):
        raise WebRtcError("messages are JSON text, not binary", code=errors.BAD_MESSAGE)
    if len(raw) > max_bytes:  # characters >= bytes/4: cheap, and still bounds the parse
        raise WebRtcError(f"message of {len(raw)} characters; the limit is {max_bytes}", code=errors.MESSAGE_TOO_LARGE)
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError) as err:
        raise WebRtcError(f"message is not JSON: {err}", code=errors.BAD_MESSAGE) from None
    if not isinstance(data, dict) or not isinstance(data.get("type"), str):
        raise WebRtcError('a message is a JSON object with a "type"', code=errors.BAD_MESSAGE)
    if data["type"] not in KNOWN:
        known = ", ".join(KNOWN)
        raise WebRtcError(
            f"unknown message type {data['type'][:40]!r}", code=errors.UNKNOWN_MESSAGE, hint=f"one of {known}"
        )
    try:
        return _adapter.validate_python(data)
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(p) for p in first["loc"][1:])
        raise WebRtcError(f"bad {data['type']} message: {where} {first['msg']}", code=errors.BAD_MESSAGE) from None


def event(type_: str, **data: Any) -> dict[str, Any]:
    return {"type": type_, **data}


def error(err: WebRtcError, **extra: Any) -> dict[str, Any]:
    return {"type": "error", **err.to_dict(), **extra}


class TokenBucket:
    """`rate` messages a second, bursts of `burst`: a flood is dropped, not queued."""

    def __init__(self, rate: float, burst: int) -> None:
        self.rate = rate
        self.burst = burst
        self._tokens = float(burst)
        self._last = time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self._tokens = min(self.burst, self._tokens + (now - self._last) * self.rate)
        self._last = now
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return True
        return False
