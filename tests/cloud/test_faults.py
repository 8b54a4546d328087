"""Issue #23, faults under the cloud, on real processes: PostgreSQL restarted (a private cluster) while
requests run, and Redis restarted (a private redis-server) under live sockets and rate limits. The
cloud is never restarted: it answers coded 503s meanwhile, recovers by itself, writes no half of
anything, and loses no notification. (The cloud killed: test_faults_kill.py.)"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from sync import LiveSync, Replica
from tests.cloud.adversary import PrivateRedis
from tests.cloud.private_postgres import PrivatePostgres
from tests.cloud.server import CloudServer, bearer, fresh_database, signup
from tests.cloud.webhook_receiver import WebhookReceiver

FAST = {
    "notify_private_webhooks": "true",
    "notify_backoff_s": "0.2",
    "notify_backoff_max_s": "1",
    "notify_webhook_attempts": "20",
    "notify_poll_s": "0.1",
}


@dataclass(frozen=True)
class Answer:
    title: str
    status: int
    code: str | None
    retry_after: str | None
    id: str | None
    at: float


def fetch(database_url: str, query: str, *args: Any) -> list[Any]:
    import asyncpg

    async def run() -> list[Any]:
        conn = await asyncpg.connect(database_url.replace("postgresql+asyncpg://", "postgresql://"), timeout=10)
        try:
            return list(await conn.fetch(query, *args))
        finally:
            await conn.close()

    return asyncio.run(run())


def senders(url: str, headers: dict[str, str], answers: list[Answer], stop: threading.Event, n: int = 3) -> list[Any]:
    """`n` clients sending notifications back to back until `stop`, every answer recorded."""

    def send(worker: int) -> None:
        with httpx.Client(base_url=url, timeout=30) as c:
            for i in range(100_000):
                if stop.is_set():
                    return
                title = f"w{worker}-{i}"
                r = c.post("/v1/notify", json={"topic": "faults", "title": title}, headers=headers)
                data = r.json()
                code = data.get("error", {}).get("code") if r.status_code >= 400 else None
                answers.append(
                    Answer(title, r.status_code, code, r.headers.get("retry-after"), data.get("id"), time.monotonic())
                )
                time.sleep(0.01)

    threads = [threading.Thread(target=send, args=(w,), daemon=True) for w in range(n)]
    for t in threads:
        t.start()
    return threads


def test_postgres_restarted_mid_requests(tmp_path: Path) -> None:
    """PostgreSQL is restarted (fast shutdown: sessions terminated mid-transaction, then refused, then
    "starting up") under three clients sending notifications that each write three rows. Every answer
    is 202 or 503 DATABASE_UNAVAILABLE with Retry-After, the same cloud process answers 202 again once
    the database is back, every 202 is stored whole (the notification and both webhook deliveries)
    and delivered to both webhooks, and no notification is stored in part."""
    phone, watch = WebhookReceiver(), WebhookReceiver()
    with PrivatePostgres() as pg:
        database_url = pg.database()
        with CloudServer(
            tmp_path / "cloud",
            services=["auth", "notification"],
            database_url=database_url,
            log_level="WARNING",
            rate_limit_per_minute="100000",
            **FAST,
        ) as server:
            api = httpx.Client(base_url=server.url, timeout=30)
            headers = bearer(signup(api)["access_token"])
            for receiver in (phone, watch):
                api.post("/v1/notify/channels", json={"url": receiver.url}, headers=headers).raise_for_status()
            answers: list[Answer] = []
            stop = threading.Event()
            threads = senders(server.url, headers, answers, stop)
            time.sleep(1.0)
            pg.stop()
            time.sleep(2.0)
            pg.start()
            back = time.monotonic()
            deadline = back + 30
            while time.monotonic() < deadline and sum(a.status == 202 and a.at > back for a in answers) < 30:
                time.sleep(0.05)
            stop.set()
            for t in threads:
                t.join(30)
            assert server.proc.poll() is None, "the cloud process is the same one throughout"

            by_status = {s: sum(a.status == s for a in answers) for s in {a.status for a in answers}}
            assert set(by_status) == {202, 503}, by_status  # never a 500, never a hang
            unavailable = [a for a in answers if a.status == 503]
            assert {a.code for a in unavailable} == {"DATABASE_UNAVAILABLE"}
            assert all(1 <= int(a.retry_after or 0) <= 60 for a in unavailable)
            assert sum(a.status == 202 and a.at > back for a in answers) >= 30, "the cloud did not recover"

            accepted = {a.id for a in answers if a.status == 202}
            stored = fetch(
                database_url,
                "SELECT n.id, count(d.id) AS deliveries FROM notifications n "
                "LEFT JOIN webhook_deliveries d ON d.notification_id = n.id GROUP BY n.id",
            )
            assert accepted <= {r["id"] for r in stored}, "an accepted notification was lost"
            assert {r["deliveries"] for r in stored} == {2}, "a notification stored without its deliveries"

            for receiver in (phone, watch):
                deadline = time.monotonic() + 60
                while time.monotonic() < deadline and not accepted <= _delivered(receiver):
                    time.sleep(0.1)
                assert accepted <= _delivered(receiver), len(accepted - _delivered(receiver))
    phone.close()
    watch.close()


def _delivered(receiver: WebhookReceiver) -> set[str]:
    return {json.loads(p.body)["id"] for p in list(receiver.received)}


def _wait_until_served(url: str, headers: dict[str, str], timeout_s: float = 30) -> float:
    """Seconds until an authenticated request is answered 200 again."""
    started = time.monotonic()
    while time.monotonic() - started < timeout_s:
        if httpx.get(f"{url}/v1/notify/notifications", headers=headers, timeout=10).status_code == 200:
            return time.monotonic() - started
        time.sleep(0.05)
    raise AssertionError("the cloud did not answer 200 again")


def test_redis_restarted_under_live_sockets(tmp_path: Path) -> None:
    """Redis restarts (every key and every subscription gone) while an app holds the notification
    socket and two replicas hold sync sockets on the same cloud process. With no socket reopened:
    a notification accepted as soon as the cloud answers again reaches the app exactly once, and a
    change made on one replica reaches the other."""
    with (
        PrivateRedis(tmp_path / "redis") as redis,
        CloudServer(
            tmp_path / "cloud",
            services=["auth", "notification", "sync"],
            database_url=fresh_database(),
            redis_url=redis.url,
            log_level="WARNING",
        ) as server,
    ):
        token = signup(httpx.Client(base_url=server.url))["access_token"]
        asyncio.run(_live_sockets_across_a_restart(server.url, token, redis, tmp_path))


async def _live_sockets_across_a_restart(url: str, token: str, redis: PrivateRedis, tmp_path: Path) -> None:
    import websockets

    headers = bearer(token)
    replicas = [Replica.open(tmp_path / f"{name}.sqlite") for name in ("a", "b")]

    async def tokens() -> str:
        return token

    stop = asyncio.Event()
    lives = [LiveSync(r, url, tokens, max_backoff_s=1) for r in replicas]
    tasks = [asyncio.create_task(live.run(stop)) for live in lives]
    ws_url = url.replace("http://", "ws://") + "/v1/notify/ws"
    try:
        async with (
            websockets.connect(ws_url, additional_headers=headers) as app,
            httpx.AsyncClient(base_url=url, headers=headers, timeout=30) as api,
        ):
            assert json.loads(await asyncio.wait_for(app.recv(), 10))["type"] == "ready"
            await asyncio.wait_for(asyncio.gather(*(live.connected.wait() for live in lives)), 20)

            async def notified(title: str) -> None:
                assert (await api.post("/v1/notify", json={"topic": "t", "title": title})).status_code == 202
                got = json.loads(await asyncio.wait_for(app.recv(), 10))
                assert (got["type"], got["title"]) == ("notification", title), got

            async def synced(key: str) -> None:
                replicas[0].doc.set_preference(key, True)
                for _ in range(200):
                    if replicas[1].doc.to_py()["preferences"].get(key) is True:
                        return
                    await asyncio.sleep(0.05)
                raise AssertionError(f"{key} did not reach the other replica")

            await notified("before")
            await synced("before")
            await asyncio.to_thread(redis.stop)  # every key and subscription gone
            await asyncio.sleep(1.0)
            await asyncio.to_thread(redis.start)
            await asyncio.to_thread(_wait_until_served, url, headers)
            await notified("after")  # sent before the socket's subscription may be back: caught up
            await synced("after")
            await notified("later")  # and the subscription itself is back
            with_more = await asyncio.wait_for(_quiet(app, 1.5), 5)
            assert with_more == [], with_more  # nothing twice
            assert all(not t.done() for t in tasks), "a sync socket had to be reopened"
    finally:
        stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)
        for replica in replicas:
            replica.store.close()


async def _quiet(ws: Any, for_s: float) -> list[Any]:
    """Whatever else arrives within `for_s` seconds."""
    extra = []
    try:
        while True:
            extra.append(json.loads(await asyncio.wait_for(ws.recv(), for_s)))
    except TimeoutError:
        return extra


def test_rate_limits_recover_after_a_redis_restart(tmp_path: Path) -> None:
    """The windows live in Redis: while it is down a request is 503 CACHE_UNAVAILABLE (not 500, not
    let through unlimited), and once it is back the limit is enforced again (429 with Retry-After)."""
    with (
        PrivateRedis(tmp_path / "redis") as redis,
        CloudServer(
            tmp_path / "cloud",
            services=["auth", "notification"],
            database_url=fresh_database(),
            redis_url=redis.url,
            log_level="WARNING",
            rate_limit_per_minute="12",
        ) as server,
    ):
        api = httpx.Client(base_url=server.url, timeout=30)
        headers = bearer(signup(api)["access_token"])

        def until_limited() -> int:
            for n in range(1, 40):
                r = api.get("/v1/notify/notifications", headers=headers)
                if r.status_code == 429:
                    assert r.json()["error"]["code"] == "RATE_LIMITED" and int(r.headers["retry-after"]) >= 1
                    return n
                assert r.status_code == 200, r.text
            raise AssertionError("never limited")

        assert until_limited() == 13
        redis.stop()
        try:
            down = api.get("/v1/notify/notifications", headers=headers)
            assert (down.status_code, down.json()["error"]["code"]) == (503, "CACHE_UNAVAILABLE")
        finally:
            redis.start()
        assert until_limited() == 13  # a restarted Redis forgot the window (no persistence): a fresh one


def test_a_write_stands_when_the_fanout_cannot_publish(tmp_path: Path) -> None:
    """Redis goes away between a write and its fan-out (here: the fan-out alone points at a closed
    port, the rest of the cloud at a live Redis). The write was committed, so the answer says so: the
    notification is 202 and in the inbox with its webhook queued, the sync update is acknowledged
    (before: 500 INTERNAL for both, and a client retrying sent the notification twice)."""
    from fastapi.testclient import TestClient

    from cloud.common.app import create_app
    from cloud.common.fanout import RedisFanOut
    from cloud.common.settings import CloudSettings
    from device_drivers.mosquitto import free_port
    from sync import protocol

    receiver = WebhookReceiver()
    with PrivateRedis(tmp_path / "redis") as redis:
        settings = CloudSettings(
            data_dir=tmp_path / "cloud",
            database_url=fresh_database(),
            redis_url=redis.url,
            jwt_secret="test-secret-" + "x" * 40,
            notify_private_webhooks=True,
        )
        app = create_app(settings, ["auth", "notification", "sync"])
        with TestClient(app) as api:
            headers = bearer(signup(api)["access_token"])  # type: ignore[arg-type]
            api.post("/v1/notify/channels", json={"url": receiver.url}, headers=headers).raise_for_status()
            gone = f"redis://127.0.0.1:{free_port()}/0"
            app.state.notify.fanout = RedisFanOut(gone)
            app.state.sync.fanout = RedisFanOut(gone)
            sent = api.post("/v1/notify", json={"topic": "t", "title": "kept"}, headers=headers)
            assert sent.status_code == 202, sent.text
            assert [n["title"] for n in api.get("/v1/notify/notifications", headers=headers).json()] == ["kept"]
            assert json.loads(receiver.wait_for(1)[0].body)["id"] == sent.json()["id"]

            replica = Replica.open(tmp_path / "replica.sqlite")
            replica.doc.set_preference("kept", True)
            _, update = replica.pending() or ([], b"")
            synced = api.post(
                "/v1/sync/main",
                content=protocol.update(update),
                headers={**headers, "Content-Type": "application/octet-stream"},
            )
            assert synced.status_code == 200, synced.text
            assert protocol.ack(update) in synced.content  # acknowledged: the client may forget it
            replica.store.close()
    receiver.close()
