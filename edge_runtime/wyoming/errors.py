"""Wyoming errors: each code reaches the client as an `error` event, so Home Assistant's log says why."""

from __future__ import annotations

from edge_runtime.errors import EdgeError


class WyomingError(EdgeError):
    code = "WYOMING_ERROR"


class BadEvent(WyomingError):
    """Not a Wyoming event: a line that is not JSON, no type, data of the wrong shape."""

    code = "WYOMING_BAD_EVENT"


class PayloadTooLarge(WyomingError):
    """A header, data or payload over the server's limits; it is never read into memory."""

    code = "WYOMING_TOO_LARGE"


class BadAudio(WyomingError):
    """An audio format the hub does not take (only 16-bit PCM, 8-48 kHz, 1-2 channels)."""

    code = "WYOMING_BAD_AUDIO"


class OutOfOrder(WyomingError):
    """An event the protocol does not allow here, e.g. synthesize-chunk with no synthesize-start."""

    code = "WYOMING_OUT_OF_ORDER"


class Unsupported(WyomingError):
    """A language, voice or wake word the hub does not have; `info` lists what it has."""

    code = "WYOMING_UNSUPPORTED"


class Busy(WyomingError):
    code = "WYOMING_BUSY"
