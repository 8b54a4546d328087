"""The cloud's rate limiter (cloud/common/ratelimit.py) on a real Redis of the test's own: one window
shared exactly by every limiter that uses the Redis, decided on Redis's clock, and a Redis outage
answered with CacheUnavailable as every other use of the store is. The same over HTTP, with two
cloud processes taking a burst of concurrent requests for one user."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
import redis as redis_py

from cloud.common.errors import CacheUnavailable
from cloud.common.ratelimit import MemoryLimiter, RedisLimiter
from cloud.common.store import RedisStore
from tests.cloud.adversary import PrivateRedis
from tests.cloud.server import CloudServer, bearer, fresh_database, signup

T = TypeVar("T")


def run(make: Callable[[], Awaitable[T]]) -> T:
    async def main() -> T:
        return await make()

    return asyncio.run(main())


class Counted(RedisStore):
    """A RedisStore that counts the commands it sends."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.sent = 0

    async def call(self, make: Callable[[], Awaitable[T]]) -> T:
        self.sent += 1
        return await super().call(make)


@pytest.fixture
def redis_url(tmp_path: Path) -> Any:
    with PrivateRedis(tmp_path / "redis") as redis:
        yield redis.url


def test_two_limiters_share_one_window_exactly(redis_url: str) -> None:
    """Two limiters with connections of their own (as two processes have) take 300 concurrent hits on
    one key with a limit of 50: exactly 50 are admitted, and the hits went to Redis in batches."""

    async def main() -> tuple[list[tuple[bool, float]], list[Counted]]:
        stores = [Counted(redis_url), Counted(redis_url)]
        limiters = [RedisLimiter(s) for s in stores]
        try:
            answers = await asyncio.gather(*(limiters[i % 2].hit("user:ada", 50, 60.0) for i in range(300)))
            return answers, stores
        finally:
            for s in stores:
                await s.close()

    answers, stores = run(main)
    admitted = [ok for ok, _ in answers]
    assert admitted.count(True) == 50, admitted.count(True)
    assert all(0 < retry <= 60.0 for ok, retry in answers if not ok)
    assert all(retry == 0.0 for ok, retry in answers if ok)
    assert sum(s.sent for s in stores) <= 10, [s.sent for s in stores]  # 300 hits, a few script calls
    assert redis_py.from_url(redis_url).zcard("rl:user:ada") == 50


def test_each_key_has_its_own_window_within_one_batch(redis_url: str) -> None:
    async def main() -> list[tuple[bool, float]]:
        store = RedisStore(redis_url)
        limiter = RedisLimiter(store)
        try:
            hits = [limiter.hit(key, 3, 60.0) for _ in range(5) for key in ("user:a", "user:b", "ip:c")]
            return list(await asyncio.gather(*hits))
        finally:
            await store.close()

    answers = run(main)
    for k in range(3):
        assert [ok for ok, _ in answers[k::3]] == [True, True, True, False, False]


def test_one_batch_decides_a_key_as_one_hit_after_another(redis_url: str) -> None:
    """The hits of one batch on one key are decided together: on a window that already holds 2 of 5,
    the first 3 in the order they came are admitted, each under a member of its own, and the rest are
    told when the oldest leaves. A hit on the same key with another limit is decided on its own."""

    async def main() -> list[tuple[bool, float]]:
        store = Counted(redis_url)
        limiter = RedisLimiter(store)
        try:
            for _ in range(2):
                await limiter.hit("user:ada", 5, 60.0)
            before = store.sent
            hits = [limiter.hit("user:ada", 5, 60.0) for _ in range(6)] + [limiter.hit("user:ada", 9, 60.0)]
            answers = list(await asyncio.gather(*hits))
            assert store.sent == before + 1  # one script call for the whole batch
            return answers
        finally:
            await store.close()

    answers = run(main)
    assert [ok for ok, _ in answers] == [True, True, True, False, False, False, True]
    assert all(58.0 < retry <= 60.0 for ok, retry in answers if not ok), answers
    assert redis_py.from_url(redis_url).zcard("rl:user:ada") == 6


def test_a_redis_that_lost_the_script_is_given_it_again(redis_url: str) -> None:
    """The script goes by its digest in the pipeline; a Redis that restarted or flushed its scripts
    answers NOSCRIPT, and the hit is decided after loading it again, not failed."""

    async def main() -> list[tuple[bool, float]]:
        store = RedisStore(redis_url)
        limiter = RedisLimiter(store)
        try:
            first = await limiter.hit("user:ada", 2, 60.0)
            await store.redis.script_flush()
            return [first, *await asyncio.gather(*(limiter.hit("user:ada", 2, 60.0) for _ in range(2)))]
        finally:
            await store.close()

    assert [ok for ok, _ in run(main)] == [True, True, False]


@pytest.mark.parametrize("skew_s", [3600.0, -3600.0])
def test_the_clock_is_redis_time_not_the_workers(
    redis_url: str, monkeypatch: pytest.MonkeyPatch, skew_s: float
) -> None:
    """A worker whose clock is an hour off sees the same window as the others: its hit is refused, the
    Retry-After is within the window, and the window holds Redis's time, not the worker's. (Decided on
    the worker's clock, as before, an hour ahead would see the window empty and admit; an hour behind
    would tell the client to wait an hour.)"""
    first = RedisStore(redis_url)
    run(lambda: _hits(first, 5))  # a worker with a good clock fills the window
    real_time, real_monotonic = time.time, time.monotonic
    monkeypatch.setattr(time, "time", lambda: real_time() + skew_s)
    monkeypatch.setattr(time, "monotonic", lambda: real_monotonic() + skew_s)
    skewed = RedisStore(redis_url)
    (ok, retry_s), *_ = run(lambda: _hits(skewed, 1))
    monkeypatch.undo()
    assert not ok and 0 < retry_s <= 60.0, (ok, retry_s)
    seconds, micros = redis_py.from_url(redis_url).time()
    scores = [s for _, s in redis_py.from_url(redis_url).zrange("rl:user:ada", 0, -1, withscores=True)]
    assert len(scores) == 5 and all(0 <= seconds + micros / 1e6 - s < 30 for s in scores), scores


async def _hits(store: RedisStore, n: int) -> list[tuple[bool, float]]:
    limiter = RedisLimiter(store)
    try:
        return [await limiter.hit("user:ada", 5, 60.0) for _ in range(n)]
    finally:
        await store.close()


def test_a_redis_outage_fails_every_waiting_hit_with_cache_unavailable(tmp_path: Path) -> None:
    """Redis gone: each of the hits waiting in one batch raises a CacheUnavailable of its own (503 with
    Retry-After in the API); once Redis is back, the same limiter admits again."""
    with PrivateRedis(tmp_path / "redis") as redis:

        async def main() -> tuple[list[BaseException | tuple[bool, float]], tuple[bool, float]]:
            store = RedisStore(redis.url)
            limiter = RedisLimiter(store)
            try:
                assert await limiter.hit("user:ada", 5, 60.0) == (True, 0.0)
                redis.stop()
                down = await asyncio.gather(
                    *(limiter.hit("user:ada", 5, 60.0) for _ in range(4)), return_exceptions=True
                )
                redis.start()
                return down, await limiter.hit("user:ada", 5, 60.0)
            finally:
                await store.close()

        down, back = run(main)
    assert all(isinstance(e, CacheUnavailable) for e in down), down
    assert len({id(e) for e in down}) == 4  # not one instance re-raised by every request
    assert all(e.headers.get("Retry-After") for e in down if isinstance(e, CacheUnavailable))
    assert back == (True, 0.0)


def test_the_in_process_window_slides() -> None:
    now = [100.0]
    limiter = MemoryLimiter(clock=lambda: now[0])

    async def hits(n: int) -> list[bool]:
        return [(await limiter.hit("user:ada", 2, 10.0))[0] for _ in range(n)]

    assert run(lambda: hits(3)) == [True, True, False]
    now[0] = 105.0
    assert run(lambda: limiter.hit("user:ada", 2, 10.0)) == (False, 5.0)
    now[0] = 110.0
    assert run(lambda: hits(3)) == [True, True, False]


def test_a_burst_across_two_processes_admits_exactly_the_limit(tmp_path: Path, redis_url: str) -> None:
    """Two cloud processes behind one Redis, 120 concurrent requests of one user split between them,
    a limit of 50: exactly 50 are answered, the rest get 429 RATE_LIMITED with a Retry-After. (With a
    window per process, each would admit 50 of its 60.)"""
    settings = {"database_url": fresh_database(), "redis_url": redis_url, "rate_limit_per_minute": "50"}
    with (
        CloudServer(tmp_path / "a", services=["auth", "profile"], log_level="WARNING", **settings) as a,
        CloudServer(tmp_path / "b", services=["auth", "profile"], log_level="WARNING", **settings) as b,
    ):
        token = signup(httpx.Client(base_url=a.url))["access_token"]

        async def burst() -> list[httpx.Response]:
            limits = httpx.Limits(max_connections=120)
            async with httpx.AsyncClient(limits=limits, timeout=30) as client:
                gets = [client.get(f"{(a, b)[i % 2].url}/v1/profile", headers=bearer(token)) for i in range(120)]
                return list(await asyncio.gather(*gets))

        responses = run(burst)
    codes = [r.status_code for r in responses]
    assert codes.count(200) == 50 and codes.count(429) == 70, codes
    for r in responses:
        if r.status_code == 429:
            assert r.json()["error"]["code"] == "RATE_LIMITED"
            assert 1 <= int(r.headers["retry-after"]) <= 60
