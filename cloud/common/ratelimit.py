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

# KEYS: one window per group; ARGV[1]: a prefix unique to this batch, then for each group its limit,
# window (s) and how many hits it has. A group is the hits of one batch on one key (with one limit and
# window), decided together exactly as one after another: the first `limit - card` are admitted.
# Answers, for each group: how many were admitted, and the seconds until a slot frees ("0" if all were).
_SLIDING_WINDOWS = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local prefix = ARGV[1]
local out = {}
for i, key in ipairs(KEYS) do
  local limit, window, n = tonumber(ARGV[3 * i - 1]), tonumber(ARGV[3 * i]), tonumber(ARGV[3 * i + 1])
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
  local room = limit - redis.call('ZCARD', key)
  local admitted = math.max(0, math.min(n, room))
  if admitted > 0 then
    local add = {}
    for j = 1, admitted do
      add[2 * j - 1], add[2 * j] = now, prefix .. ':' .. i .. ':' .. j
    end
    redis.call('ZADD', key, unpack(add))
    redis.call('PEXPIRE', key, math.ceil(window * 1000))
  end
  out[2 * i - 1], out[2 * i] = admitted, '0'
  if admitted < n then
    local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
    out[2 * i] = tostring(tonumber(oldest[2]) + window - now)
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
        self._batches = map("{}:{}".format, itertools.repeat(uuid.uuid4().hex), itertools.count())
        self._batch: Batcher[Hit, Answer] = Batcher(self._send, max_batch)

    def hit(self, key: str, limit: int, window_s: float) -> asyncio.Future[Answer]:
        return self._batch((key, limit, window_s))

    async def _send(self, hits: list[Hit]) -> list[Answer]:
        from redis.exceptions import NoScriptError

        groups: dict[Hit, list[int]] = {}  # a busy caller's hits in one batch: one pass over its window
        for i, hit in enumerate(hits):
            groups.setdefault(hit, []).append(i)
        keys = [f"rl:{key}" for key, _, _ in groups]
        args: list[str | int | float] = [next(self._batches)]
        for (_, limit, window_s), members in groups.items():
            args += [limit, window_s, len(members)]
        flat = await self._store.pipelined(lambda pipe: pipe.evalsha(self._script.sha, len(keys), *keys, *args))
        if isinstance(flat, NoScriptError):  # a Redis that restarted, or one just flushed: load it again
            flat = await self._store.call(lambda: self._script(keys=keys, args=args))
        elif isinstance(flat, Exception):
            raise flat
        answers: list[Answer] = [(True, 0.0)] * len(hits)
        for g, members in enumerate(groups.values()):
            admitted, retry_s = int(flat[2 * g]), float(flat[2 * g + 1])
            for i in members[admitted:]:  # in the order they came: the first ones had the room
                answers[i] = (False, retry_s)
        return answers


def make_limiter(store: Store) -> Limiter:
    return RedisLimiter(store) if isinstance(store, RedisStore) else MemoryLimiter()


async def enforce(counted: Awaitable[Answer], message: str, hint: Callable[[], str] | None = None) -> None:
    """Raises 429 RATE_LIMITED, with Retry-After in whole seconds, when the hit was refused. The hint
    is made only then: formatting it for every admitted request was a measurable share of one."""
    allowed, retry_s = await counted
    if not allowed:
        retry = {"Retry-After": str(max(1, round(retry_s + 0.5)))}
        raise RateLimited(message, headers=retry, hint=hint() if hint else None)


def forget(counted: asyncio.Future[Answer]) -> None:
    """For a hit whose answer nobody will read (the request failed first): its failure, if any, is
    not reported as never retrieved."""
    counted.add_done_callback(lambda done: done.cancelled() or done.exception())
