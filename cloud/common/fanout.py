"""Fan-out of messages (sync updates, notifications): Redis pub/sub across cloud processes,
in-process as the embedded default.

The fan-out only tells live sockets sooner; what it carries is already stored (the sync log, the
notification inbox). So a publish that Redis cannot take is logged, not raised: the write it follows
was acknowledged by the database and stays acknowledged. A subscription that Redis drops (a restart)
is made again, with backoff, and `catch_up(channel, since)` gives what may have been published
meanwhile, read back from the database, so a socket held across the restart misses nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from sync.server import MemoryFanOut

log = logging.getLogger("cloud.fanout")
CatchUp = Callable[[str, float], Awaitable[list[bytes]]]  # channel, lost at (epoch s) -> messages


class RedisFanOut:
    def __init__(self, url: str, catch_up: CatchUp | None = None, *, max_backoff_s: float = 1.0) -> None:
        import redis.asyncio as redis
        from redis.asyncio.retry import Retry
        from redis.backoff import ExponentialBackoff, NoBackoff

        # A pooled connection that died with a Redis restart is replaced and the command sent again,
        # as the store's are (cloud/common/store.py). Bytes in, bytes out.
        self.redis = redis.from_url(
            url,
            socket_connect_timeout=2,
            retry=Retry(ExponentialBackoff(cap=0.5, base=0.05), 2),
            retry_on_error=[redis.ConnectionError, redis.TimeoutError],
        )
        # Subscriptions never reconnect quietly (that would hide a gap): a lost one raises, and is
        # made again here, then caught up.
        self._subscriber = redis.from_url(url, socket_connect_timeout=2, retry=Retry(NoBackoff(), 0))
        self.catch_up = catch_up
        self.max_backoff_s = max_backoff_s
        self.publish_failures = 0

    async def publish(self, channel: str, data: bytes) -> None:
        import redis.asyncio as redis

        try:
            await self.redis.publish(channel, data)
        except (redis.ConnectionError, redis.TimeoutError, OSError) as err:
            self.publish_failures += 1
            log.warning("fanout.publish_failed", extra={"channel": channel.split(":", 1)[0], "error": str(err)})

    @contextlib.asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[AsyncIterator[bytes]]:
        current = [await self._subscribed(channel)]

        async def items() -> AsyncIterator[bytes]:
            import redis.asyncio as redis

            while True:
                try:
                    async for message in current[0].listen():
                        if message.get("type") == "message":
                            yield bytes(message["data"])
                    return  # unsubscribed: the caller is leaving
                except (redis.ConnectionError, redis.TimeoutError, OSError) as err:
                    lost = time.time()
                    log.warning("fanout.subscription_lost", extra={"error": str(err)})
                await _close(current[0])
                current[0] = await self._resubscribe(channel)
                if self.catch_up is not None:
                    for data in await self._caught_up(channel, lost):
                        yield data

        try:
            yield items()
        finally:
            with contextlib.suppress(Exception):  # Redis may be away: the connection goes anyway
                await current[0].unsubscribe(channel)
            await _close(current[0])

    async def _subscribed(self, channel: str) -> Any:
        pubsub = self._subscriber.pubsub()
        try:
            await pubsub.subscribe(channel)
        except BaseException:
            await _close(pubsub)
            raise
        return pubsub

    async def _resubscribe(self, channel: str) -> Any:
        """Until Redis is back: waits from 0.05 s doubling to `max_backoff_s`, jittered."""
        import redis.asyncio as redis

        delay = 0.05
        while True:
            try:
                pubsub = await self._subscribed(channel)
            except (redis.ConnectionError, redis.TimeoutError, OSError):
                await asyncio.sleep(delay * random.uniform(0.5, 1.0))
                delay = min(self.max_backoff_s, delay * 2)
                continue
            log.info("fanout.resubscribed", extra={"channel": channel.split(":", 1)[0]})
            return pubsub

    async def _caught_up(self, channel: str, lost: float) -> list[bytes]:
        assert self.catch_up is not None
        while True:
            try:
                return await self.catch_up(channel, lost)
            except Exception as err:  # the database may be away too: try again, the socket waits
                log.warning("fanout.catch_up_failed", extra={"error": type(err).__name__})
                await asyncio.sleep(self.max_backoff_s)

    async def close(self) -> None:
        await self.redis.aclose()
        await self._subscriber.aclose()


async def _close(pubsub: Any) -> None:
    with contextlib.suppress(Exception):
        await pubsub.aclose()


def make_fanout(url: str | None, catch_up: CatchUp | None = None) -> RedisFanOut | MemoryFanOut:
    return RedisFanOut(url, catch_up) if url else MemoryFanOut()
