"""Time as a dependency, so timers can be tested without waiting ten minutes."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, tzinfo
from typing import Protocol
from zoneinfo import ZoneInfo


class Clock(Protocol):
    def now(self) -> datetime: ...

    def monotonic(self) -> float: ...

    async def sleep(self, seconds: float) -> None: ...


class SystemClock:
    def __init__(self, timezone: str | None = None) -> None:
        self._tz: tzinfo | None = ZoneInfo(timezone) if timezone else None

    def now(self) -> datetime:
        return datetime.now(self._tz).astimezone(self._tz)

    def monotonic(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)
