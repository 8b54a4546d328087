"""Coded warnings for what arrives over MQTT, rate-limited per code: a flood of bad messages costs a few log
lines (each with its code and the running count), never a traceback per message."""

from __future__ import annotations

import logging
import time
from collections import Counter
from typing import Any


class Reporter:
    def __init__(self, logger: logging.Logger, *, burst: int = 10, window_s: float = 60.0) -> None:
        self.log = logger
        self.burst, self.window_s = burst, window_s
        self.counts: Counter[str] = Counter()  # every occurrence, logged or not
        self._windows: dict[tuple[str, str], list[float]] = {}  # (event, code) -> [start, logged, suppressed]

    def warn(self, event: str, code: str, **fields: Any) -> None:
        self.counts[code] += 1
        now = time.monotonic()
        window = self._windows.setdefault((event, code), [now, 0, 0])
        if now - window[0] >= self.window_s:
            window[:] = [now, 0, window[2]]  # the suppressed count is reported with the next line
        if window[1] >= self.burst:
            window[2] += 1
            return
        window[1] += 1
        extra = {"code": code, "count": self.counts[code], **fields}
        if window[2]:
            extra["suppressed"], window[2] = window[2], 0
        self.log.warning(event, extra=extra)

    def unexpected(self, event: str, code: str, err: BaseException, **fields: Any) -> None:
        """A bug or an input nobody foresaw: one coded line with the exception's type, no traceback."""
        self.warn(event, code, error=f"{type(err).__name__}: {str(err)[:200]}", **fields)
