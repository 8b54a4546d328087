"""Cache, rate limits and revocation lists: Redis in production, in-process as the embedded
default, behind one interface so every service is written once."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import defaultdict, deque
from typing import Protocol

# Sliding window in one round trip: drop old hits, count, add this one if allowed.
_SLIDING_WINDOW = """
local key, now, window, limit, member = KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4]
redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
local count = redis.call('ZCARD', key)
if count < limit then
  redis.call('ZADD', key, now, member)
  redis.call('PEXPIRE', key, math.ceil(window * 1000))
  return {1, 0}
end
local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
return {0, tostring(tonumber(oldest[2]) + window - now)}
"""


class Store(Protocol):
    async def hit(self, key: str, limit: int, window_s: float) -> tuple[bool, float]:
        """(allowed, seconds until a slot frees) for one request against a sliding window."""
        ...

    async def set(self, key: str, value: str, ttl_s: float | None = None) -> None: ...

    async def get(self, key: str) -> str | None: ...

    async def ping(self) -> bool: ...

    async def close(self) -> None: ...


class MemoryStore:
    def __init__(self) -> None:
        self._hits: dict[str, deque[float]] = defaultdict(deque)
        self._values: dict[str, tuple[str, float | None]] = {}
        self._lock = asyncio.Lock()

    async def hit(self, key: str, limit: int, window_s: float) -> tuple[bool, float]:
        now = time.monotonic()
        async with self._lock:
            hits = self._hits[key]
            while hits and hits[0] <= now - window_s:
                hits.popleft()
            if len(hits) < limit:
                hits.append(now)
                return True, 0.0
            return False, hits[0] + window_s - now

    async def set(self, key: str, value: str, ttl_s: float | None = None) -> None:
        self._values[key] = (value, time.monotonic() + ttl_s if ttl_s else None)

    async def get(self, key: str) -> str | None:
        item = self._values.get(key)
        if item is None or (item[1] is not None and item[1] < time.monotonic()):
            return None
        return item[0]

    async def ping(self) -> bool:
        return True

    async def close(self) -> None:
        pass


class RedisStore:
    def __init__(self, url: str) -> None:
        import redis.asyncio as redis

        self.redis = redis.from_url(url, decode_responses=True)
        self._script = self.redis.register_script(_SLIDING_WINDOW)

    async def hit(self, key: str, limit: int, window_s: float) -> tuple[bool, float]:
        allowed, retry = await self._script(keys=[f"rl:{key}"], args=[time.time(), window_s, limit, uuid.uuid4().hex])
        return bool(int(allowed)), float(retry)

    async def set(self, key: str, value: str, ttl_s: float | None = None) -> None:
        await self.redis.set(key, value, px=int(ttl_s * 1000) if ttl_s else None)

    async def get(self, key: str) -> str | None:
        value = await self.redis.get(key)
        return None if value is None else str(value)

    async def ping(self) -> bool:
        try:
            return bool(await self.redis.ping())
        except Exception:
            return False

    async def close(self) -> None:
        await self.redis.aclose()


def make_store(url: str | None) -> Store:
    return RedisStore(url) if url else MemoryStore()
