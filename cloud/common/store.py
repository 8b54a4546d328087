"""Cache and revocation lists: Redis in production, in-process as the embedded default, behind one
interface so every service is written once. (The rate limiter, cloud/common/ratelimit.py, keeps its
windows in the same Redis.)"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any, Protocol, TypeVar

from cloud.common.batching import Batcher
from cloud.common.errors import CacheUnavailable

T = TypeVar("T")


class Store(Protocol):
    async def set(self, key: str, value: str, ttl_s: float | None = None) -> None: ...

    async def add(self, key: str, value: str, ttl_s: float) -> bool:
        """Set only if absent (so a cached answer never overwrites a newer one); True if set."""
        ...

    async def get(self, key: str) -> str | None: ...

    async def get_many(self, *keys: str) -> list[str | None]: ...

    @property
    def generation(self) -> int:
        """Changes when the store may have restarted (and lost what it held) since the caller last
        looked."""
        ...

    async def ping(self) -> bool: ...

    async def close(self) -> None: ...


class MemoryStore:
    def __init__(self) -> None:
        self._values: dict[str, tuple[str, float | None]] = {}

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
    Redis restart is replaced and the command retried. Each new connection asks which server it
    reached (`run_id`, new at every start of Redis), and the generation counts the changes: a
    restart is noticed by the first connection made after it, while a pool that merely grows under
    load is not taken for one. The `get_many` calls of one turn of the event loop (every request's
    authorization check) go to Redis as one MGET."""

    def __init__(self, url: str, on_error: Callable[[], None] | None = None) -> None:
        import redis.asyncio as redis
        from redis.asyncio.retry import Retry
        from redis.backoff import ExponentialBackoff

        self._generation, self._run_id = 0, ""
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
        self._lookups: Batcher[tuple[str, ...], list[str | None]] = Batcher(self._mget)
        self._piped: Batcher[Callable[[Any], Any], Any] = Batcher(self._pipeline)

    async def _connected(self, conn: Any) -> None:
        from redis.exceptions import ResponseError

        await conn.on_connect()
        await conn.send_command("INFO", "server")
        try:
            info = str(await conn.read_response())
        except ResponseError:  # INFO renamed away, as some hosted Redis do
            info = ""
        run_id = next((line[7:].strip() for line in info.splitlines() if line.startswith("run_id:")), "")
        if run_id != self._run_id or not run_id:  # no run_id to tell by: count every connection
            self._run_id = run_id
            self._generation += 1

    @property
    def generation(self) -> int:
        return self._generation

    async def call(self, make: Callable[[], Awaitable[T]]) -> T:
        import redis.asyncio as redis

        try:
            return await make()
        except (redis.ConnectionError, redis.TimeoutError, OSError) as err:
            if self._on_error is not None:
                self._on_error()
            raise CacheUnavailable() from err

    async def pipelined(self, add: Callable[[Any], Any]) -> Any:
        """One command, `add(pipeline)`, sent with every other command queued in this turn of the event
        loop as one pipeline: one round trip for all. The batches of the authorization lookups and
        of the rate limiter meet here, so a request waits on Redis once. A command's own error (as
        NOSCRIPT) comes back as its answer; a lost connection fails them all with CacheUnavailable."""
        return await self._piped(add)

    async def _pipeline(self, commands: list[Callable[[Any], Any]]) -> list[Any]:
        async def run() -> list[Any]:
            pipe = self.redis.pipeline(transaction=False)
            for add in commands:
                add(pipe)
            answers: list[Any] = await pipe.execute(raise_on_error=False)
            return answers

        return await self.call(run)

    async def set(self, key: str, value: str, ttl_s: float | None = None) -> None:
        await self.call(lambda: self.redis.set(key, value, px=int(ttl_s * 1000) if ttl_s else None))

    async def add(self, key: str, value: str, ttl_s: float) -> bool:
        return bool(await self.call(lambda: self.redis.set(key, value, px=int(ttl_s * 1000), nx=True)))

    async def get(self, key: str) -> str | None:
        value = await self.call(lambda: self.redis.get(key))
        return None if value is None else str(value)

    async def get_many(self, *keys: str) -> list[str | None]:
        return await self._lookups(keys)

    async def _mget(self, lookups: list[tuple[str, ...]]) -> list[list[str | None]]:
        keys = list(dict.fromkeys(k for lookup in lookups for k in lookup))  # each key once
        values = await self.pipelined(lambda pipe: pipe.mget(keys))
        if isinstance(values, Exception):
            raise values
        found = {k: None if v is None else str(v) for k, v in zip(keys, values, strict=True)}
        return [[found[k] for k in lookup] for lookup in lookups]

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
