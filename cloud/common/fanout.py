"""Fan-out of messages (sync updates, notifications): Redis pub/sub across cloud processes,
in-process as the embedded default."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from sync.server import MemoryFanOut


class RedisFanOut:
    def __init__(self, url: str) -> None:
        import redis.asyncio as redis

        self.redis = redis.from_url(url)  # bytes in, bytes out

    async def publish(self, channel: str, data: bytes) -> None:
        await self.redis.publish(channel, data)

    @contextlib.asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[AsyncIterator[bytes]]:
        pubsub = self.redis.pubsub()
        await pubsub.subscribe(channel)

        async def items() -> AsyncIterator[bytes]:
            async for message in pubsub.listen():
                if message.get("type") == "message":
                    yield bytes(message["data"])

        try:
            yield items()
        finally:
            await pubsub.unsubscribe(channel)
            await pubsub.aclose()

    async def close(self) -> None:
        await self.redis.aclose()


def make_fanout(url: str | None) -> RedisFanOut | MemoryFanOut:
    return RedisFanOut(url) if url else MemoryFanOut()
