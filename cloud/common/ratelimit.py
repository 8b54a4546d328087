"""The cloud's one rate limiter: a sliding window per key (a user, a device, an API key, a client
address on the routes that need no token).

With Redis, the window lives there and every process shares it exactly: each hit is decided inside
Redis by one Lua script, on Redis's clock (`TIME`), never a worker's, so a worker whose clock is
skewed decides nothing differently. The hits a process makes while its previous batch is in
flight go to Redis together, as one script call (`cloud/common/batching.py`), which is what makes
the shared limit cheap; there is no local allowance and so no slack: `limit` hits are admitted per window, across all
processes, and not one more. When Redis cannot be reached, the hit fails with CacheUnavailable
(503 with Retry-After), as every other use of the store does.

Without Redis (the embedded default, one process) the window is kept in-process on the monotonic
clock.
"""

from __future__ import annotations

import asyncio
import itertools
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Protocol

from cloud.common.batching import Batcher
from cloud.common.errors import RateLimited
from cloud.common.store import RedisStore, Store
from common.ratelimit import Answer, SlidingWindows

# KEYS: one window per hit; ARGV: limit, window (s) and a unique member for each hit, in turn.
# Answers, for each hit: 1 and "0" if admitted, else 0 and the seconds until a slot frees.
_SLIDING_WINDOWS = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local out = {}
for i, key in ipairs(KEYS) do
  local limit, window, member = tonumber(ARGV[3 * i - 2]), tonumber(ARGV[3 * i - 1]), ARGV[3 * i]
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
  if redis.call('ZCARD', key) < limit then
    redis.call('ZADD', key, now, member)
    redis.call('PEXPIRE', key, math.ceil(window * 1000))
    out[2 * i - 1], out[2 * i] = 1, '0'
  else
    local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
    out[2 * i - 1], out[2 * i] = 0, tostring(tonumber(oldest[2]) + window - now)
  end
end
return out
"""

Hit = tuple[str, int, float]  # key, limit, window in seconds


class Limiter(Protocol):
    def hit(self, key: str, limit: int, window_s: float) -> asyncio.Future[Answer]:
        """Counts one request against `key`'s window, at once or with the other hits of this turn of
        the event loop. Nothing waits until the answer is awaited, so a caller may start the hit,
        do other work that waits on Redis (the authorization lookup), then read it."""
        ...


class MemoryLimiter:
    """One process's windows, on its monotonic clock (or `clock`, for tests): common.ratelimit's."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._windows = SlidingWindows(clock)

    def hit(self, key: str, limit: int, window_s: float) -> asyncio.Future[Answer]:
        answer: asyncio.Future[Answer] = asyncio.get_running_loop().create_future()
        answer.set_result(self._windows.hit(key, limit, window_s))
        return answer


class RedisLimiter:
    """Windows in Redis, shared by every process that uses the same Redis; see the module's doc."""

    def __init__(self, store: RedisStore, max_batch: int = 256) -> None:
        self._store = store
        self._script = store.redis.register_script(_SLIDING_WINDOWS)
        self._members = map("{}:{}".format, itertools.repeat(uuid.uuid4().hex), itertools.count())
        self._batch: Batcher[Hit, Answer] = Batcher(self._send, max_batch)

    def hit(self, key: str, limit: int, window_s: float) -> asyncio.Future[Answer]:
        return self._batch((key, limit, window_s))

    async def _send(self, hits: list[Hit]) -> list[Answer]:
        keys = [f"rl:{key}" for key, _, _ in hits]
        args: list[str | int | float] = []
        for _, limit, window_s in hits:
            args += [limit, window_s, next(self._members)]
        flat = await self._store.call(lambda: self._script(keys=keys, args=args))
        return [(bool(int(flat[i])), float(flat[i + 1])) for i in range(0, len(flat), 2)]


def make_limiter(store: Store) -> Limiter:
    return RedisLimiter(store) if isinstance(store, RedisStore) else MemoryLimiter()


async def enforce(counted: Awaitable[Answer], message: str, hint: str | None = None) -> None:
    """Raises 429 RATE_LIMITED, with Retry-After in whole seconds, when the hit was refused."""
    allowed, retry_s = await counted
    if not allowed:
        raise RateLimited(message, headers={"Retry-After": str(max(1, round(retry_s + 0.5)))}, hint=hint)


def forget(counted: asyncio.Future[Answer]) -> None:
    """For a hit whose answer nobody will read (the request failed first): its failure, if any, is
    not reported as never retrieved."""
    counted.add_done_callback(lambda done: done.cancelled() or done.exception())
