"""Per-stream model state, lent out and taken back.

Wake word and VAD models keep state between frames, so two clients must never share one; the
hub's own pipeline keeps its instances. Each stream borrows an instance of its own (a few MB,
loaded once, like a WebRTC session's), and a returned one is reset and lent again. STT and TTS
hold no stream state: every client shares the hub's loaded engines.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Hashable
from typing import Any, Generic, Protocol, TypeVar


class Resettable(Protocol):
    def reset(self) -> None: ...


T = TypeVar("T", bound=Resettable)


class Pool(Generic[T]):
    def __init__(self, make: Callable[[Any], T], *, keep: int) -> None:
        self._make = make
        self._keep = keep
        self._spare: dict[Hashable, list[T]] = {}

    async def take(self, key: Hashable = None) -> T:
        spare = self._spare.get(key)
        if spare:
            return spare.pop()
        return await asyncio.to_thread(self._make, key)

    def give(self, item: T, key: Hashable = None) -> None:
        item.reset()
        spare = self._spare.setdefault(key, [])
        if len(spare) < self._keep:
            spare.append(item)

    async def prewarm(self, key: Hashable = None, count: int = 1) -> None:
        while len(self._spare.get(key, [])) < min(count, self._keep):
            self._spare.setdefault(key, []).append(await asyncio.to_thread(self._make, key))
