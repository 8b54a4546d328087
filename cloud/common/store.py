"""Cache, rate limits and revocation lists: Redis in production, in-process as the embedded
default, behind one interface so every service is written once."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import defaultdict, deque
from collections.abc import Awaitable, Callable
from typing import Any, Protocol, TypeVar

from cloud.common.errors import CacheUnavailable

T = TypeVar("T")

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

    async def add(self, key: str, value: str, ttl_s: float) -> bool:
        """Set only if absent (so a cached answer never overwrites a newer one); True if set."""
        ...

    async def get(self, key: str) -> str | None: ...

    async def get_many(self, *keys: str) -> list[str | None]: ...

    @property
    def generation(self) -> int:
        """How many connections the store has opened: a change means it may have restarted (and lost
        what it held) since the caller last looked."""
        ...

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

    async def add(self, key: str, value: str, ttl_s: float) -> bool:
        if await self.get(key) is not None:
            return False
        await self.set(key, value, ttl_s)
        return True

    async def get(self, key: str) -> str | None:
        item = self._values.get(key)
        if item is None or (item[1] is not None and item[1] < time.monotonic()):
            return None
        return item[0]

    async def get_many(self, *keys: str) -> list[str | None]:
        return [await self.get(k) for k in keys]

    @property
    def generation(self) -> int:
        return 0  # in-process: it never restarts without the process

    async def ping(self) -> bool:
        return True

    async def close(self) -> None:
        pass


class RedisStore:
    """Redis errors leave as CacheUnavailable (503 with a code). A pooled connection that died with a
    Redis restart is replaced and the command retried, and every new connection is counted."""

    def __init__(self, url: str, on_error: Callable[[], None] | None = None) -> None:
        import redis.asyncio as redis
        from redis.asyncio.retry import Retry
        from redis.backoff import ExponentialBackoff

        self._connects = 0
        self._on_error = on_error
        self.redis = redis.from_url(
            url,
            decode_responses=True,
            socket_timeout=5,
            socket_connect_timeout=2,
            retry=Retry(ExponentialBackoff(cap=0.5, base=0.05), 2),
            retry_on_error=[redis.ConnectionError, redis.TimeoutError],
            redis_connect_func=self._connected,
        )
        self._script = self.redis.register_script(_SLIDING_WINDOW)

    async def _connected(self, conn: Any) -> None:
        await conn.on_connect()
        self._connects += 1

    @property
    def generation(self) -> int:
        return self._connects

    async def _call(self, make: Callable[[], Awaitable[T]]) -> T:
        import redis.asyncio as redis

        try:
            return await make()
        except (redis.ConnectionError, redis.TimeoutError, OSError) as err:
            if self._on_error is not None:
                self._on_error()
            raise CacheUnavailable() from err

    async def hit(self, key: str, limit: int, window_s: float) -> tuple[bool, float]:
        args: list[str | float] = [time.time(), window_s, limit, uuid.uuid4().hex]
        allowed, retry = await self._call(lambda: self._script(keys=[f"rl:{key}"], args=args))
        return bool(int(allowed)), float(retry)

    async def set(self, key: str, value: str, ttl_s: float | None = None) -> None:
        await self._call(lambda: self.redis.set(key, value, px=int(ttl_s * 1000) if ttl_s else None))

    async def add(self, key: str, value: str, ttl_s: float) -> bool:
        return bool(await self._call(lambda: self.redis.set(key, value, px=int(ttl_s * 1000), nx=True)))

    async def get(self, key: str) -> str | None:
        value = await self._call(lambda: self.redis.get(key))
        return None if value is None else str(value)

    async def get_many(self, *keys: str) -> list[str | None]:
        values = await self._call(lambda: self.redis.mget(list(keys)))
        return [None if v is None else str(v) for v in values]

    async def ping(self) -> bool:
        try:
            return bool(await self.redis.ping())
        except Exception:
            return False

    async def close(self) -> None:
        await self.redis.aclose()


def make_store(url: str | None, on_error: Callable[[], None] | None = None) -> Store:
    """`on_error` is told of each Redis failure (the metrics count them)."""
    return RedisStore(url, on_error) if url else MemoryStore()
