"""notification on real cloud processes (PostgreSQL, Redis): signed webhooks retried with backoff
and dead-lettered, topic filters, users kept apart, and WebSocket push across two processes."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from cloud.common.errors import ApiError
from cloud.notification.signing import sign, verify
from cloud.notification.targets import check_webhook_url
from tests.cloud.server import CloudServer, bearer, fresh_database, fresh_redis, signup
from tests.cloud.webhook_receiver import WebhookReceiver

FAST = {
    "notify_private_webhooks": "true",
    "notify_backoff_s": "0.3",
    "notify_webhook_attempts": "4",
    "notify_poll_s": "0.1",
}


@pytest.fixture(scope="module")
def notify_cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CloudServer]:
    with CloudServer(
        tmp_path_factory.mktemp("notify"),
        services=["auth", "notification"],
        database_url=fresh_database(),
        redis_url=fresh_redis(3),
        **FAST,
    ) as server:
        yield server


@pytest.fixture
def api(notify_cloud: CloudServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=notify_cloud.url, timeout=30) as c:
        yield c


def wait_status(api: httpx.Client, headers: dict[str, str], status: str, timeout_s: float = 20) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = api.get("/v1/notify/deliveries", params={"status": status}, headers=headers).json()
        if found:
            return found[0]
        time.sleep(0.05)
    raise AssertionError(f"no delivery reached {status}")


def test_webhook_is_signed_retried_with_backoff_then_delivered(api: httpx.Client) -> None:
    receiver = WebhookReceiver(statuses=[500, 502])
    headers = bearer(signup(api)["access_token"])
    channel = api.post("/v1/notify/channels", json={"url": receiver.url, "name": "phone"}, headers=headers)
    assert channel.status_code == 201, channel.text
    secret = channel.json()["secret"]
    assert "secret" not in api.get("/v1/notify/channels", headers=headers).json()[0]  # shown once
    sent = api.post(
        "/v1/notify",
        json={"topic": "security", "title": "Front door opened", "data": {"door": "front"}},
        headers=headers,
    )
    assert sent.status_code == 202 and sent.json()["webhooks"] == 1
    posts = receiver.wait_for(3)
    delivery_ids = {p.headers["X-Companion-Delivery"] for p in posts}
    assert len(delivery_ids) == 1  # the same delivery, retried: receivers dedupe by it
    for post in posts:
        assert verify(secret, post.headers["X-Companion-Timestamp"], post.body, post.headers["X-Companion-Signature"])
        assert not verify(
            "wrong-secret", post.headers["X-Companion-Timestamp"], post.body, post.headers["X-Companion-Signature"]
        )
    body = json.loads(posts[0].body)
    assert (
        body["title"] == "Front door opened" and body["data"] == {"door": "front"} and body["id"] == sent.json()["id"]
    )
    first_gap, second_gap = posts[1].at - posts[0].at, posts[2].at - posts[1].at
    assert first_gap >= 0.3 * 0.9 and second_gap >= 0.6 * 0.9, (first_gap, second_gap)  # exponential backoff
    delivered = wait_status(api, headers, "delivered")
    assert delivered["attempts"] == 3 and delivered["last_status"] == 200
    receiver.close()


def test_dead_letter_after_the_last_attempt_and_retry(api: httpx.Client) -> None:
    receiver = WebhookReceiver(default=503)
    headers = bearer(signup(api)["access_token"])
    api.post("/v1/notify/channels", json={"url": receiver.url}, headers=headers).raise_for_status()
    api.post("/v1/notify", json={"topic": "timer", "title": "Tea is ready"}, headers=headers).raise_for_status()
    dead = wait_status(api, headers, "dead")
    assert dead["attempts"] == 4 and dead["last_error"] == "HTTP 503" and len(receiver.received) == 4
    receiver.default = 200
    again = api.post(f"/v1/notify/deliveries/{dead['id']}/retry", headers=headers)
    assert again.status_code == 200 and again.json()["status"] == "pending" and again.json()["attempts"] == 0
    assert wait_status(api, headers, "delivered")["id"] == dead["id"]
    twice = api.post(f"/v1/notify/deliveries/{dead['id']}/retry", headers=headers)
    assert twice.status_code == 409 and twice.json()["error"]["code"] == "NOTIFY_NOT_DEAD"
    receiver.close()


def test_topic_filters_pausing_and_rotation(api: httpx.Client) -> None:
    receiver = WebhookReceiver()
    headers = bearer(signup(api)["access_token"])
    channel = api.post(
        "/v1/notify/channels", json={"url": receiver.url, "topics": ["security"]}, headers=headers
    ).json()
    assert api.post("/v1/notify", json={"topic": "timer", "title": "t"}, headers=headers).json()["webhooks"] == 0
    assert api.post("/v1/notify", json={"topic": "security", "title": "s"}, headers=headers).json()["webhooks"] == 1
    paused = api.patch(f"/v1/notify/channels/{channel['id']}", json={"enabled": False}, headers=headers).json()
    assert paused["enabled"] is False and paused["topics"] == ["security"]
    assert api.post("/v1/notify", json={"topic": "security", "title": "s2"}, headers=headers).json()["webhooks"] == 0
    rotated = api.post(f"/v1/notify/channels/{channel['id']}/rotate", headers=headers).json()
    assert rotated["secret"] != channel["secret"]
    inbox = api.get("/v1/notify/notifications", headers=headers).json()
    assert [n["title"] for n in inbox] == ["s2", "s", "t"]  # the inbox keeps all, newest first
    assert api.delete(f"/v1/notify/channels/{channel['id']}", headers=headers).status_code == 204
    assert api.get("/v1/notify/channels", headers=headers).json() == []
    receiver.close()


def test_users_never_reach_each_others_channels_deliveries_or_inbox(api: httpx.Client) -> None:
    receiver = WebhookReceiver(default=500)
    alice, mallory = bearer(signup(api)["access_token"]), bearer(signup(api)["access_token"])
    channel = api.post("/v1/notify/channels", json={"url": receiver.url}, headers=alice).json()
    api.post("/v1/notify", json={"topic": "security", "title": "alice only"}, headers=alice).raise_for_status()
    receiver.wait_for(1)
    delivery = api.get("/v1/notify/deliveries", headers=alice).json()[0]
    assert api.get("/v1/notify/channels", headers=mallory).json() == []
    assert api.get("/v1/notify/deliveries", headers=mallory).json() == []
    assert api.get("/v1/notify/notifications", headers=mallory).json() == []
    for method, path, body in [
        ("PATCH", f"/v1/notify/channels/{channel['id']}", {"enabled": False}),
        ("POST", f"/v1/notify/channels/{channel['id']}/rotate", None),
        ("DELETE", f"/v1/notify/channels/{channel['id']}", None),
        ("POST", f"/v1/notify/deliveries/{delivery['id']}/retry", None),
    ]:
        answer = api.request(method, path, json=body, headers=mallory)
        assert answer.status_code == 404, (method, path, answer.text)
    assert api.get("/v1/notify/channels", headers=alice).json()[0]["enabled"] is True
    receiver.close()


def test_bad_input_gets_codes(api: httpx.Client) -> None:
    headers = bearer(signup(api)["access_token"])
    for url in ["ftp://example.com/x", "http://user:pw@example.com/x", "not a url at all", "http://example.com:99999/"]:
        bad = api.post("/v1/notify/channels", json={"url": url}, headers=headers)
        assert bad.status_code == 422 and bad.json()["error"]["code"] in ("NOTIFY_BAD_URL", "VALIDATION_ERROR"), url
    assert api.post("/v1/notify", json={"topic": "Bad Topic!", "title": "x"}, headers=headers).status_code == 422
    huge = api.post("/v1/notify", json={"topic": "x", "title": "x", "data": {"blob": "a" * 9000}}, headers=headers)
    assert huge.status_code == 422
    missing = api.post("/v1/notify", json={"topic": "x", "title": "x"})
    assert missing.status_code == 401 and missing.json()["error"]["code"] == "TOKEN_MISSING"


def test_internal_webhook_addresses_are_refused_by_default() -> None:
    async def refused(url: str) -> str:
        try:
            await check_webhook_url(url, allow_private=False)
        except ApiError as err:
            return str(err.code)
        return "allowed"

    for url in [
        "http://127.0.0.1:8080/hook",
        "http://localhost/x",
        "http://10.1.2.3/x",
        "http://169.254.169.254/",
        "http://[::1]:9000/",
    ]:
        assert asyncio.run(refused(url)) == "NOTIFY_PRIVATE_URL", url
    assert asyncio.run(refused("http://93.184.216.34/hook")) == "allowed"  # a public address, not contacted


def test_signatures_refuse_tampering_and_replays() -> None:
    body, now = b'{"title":"x"}', 1_800_000_000
    signature = sign("k", now, body)
    assert verify("k", str(now), body, signature, now=now + 10)
    assert not verify("k", str(now), body + b" ", signature, now=now)
    assert not verify("k", str(now), body, signature, now=now + 301)  # too old: a replay
    assert not verify("k", "not-a-number", body, signature, now=now)


def test_push_reaches_sockets_on_another_process(tmp_path: Path) -> None:
    """Sent to process A, pushed to an app connected to process B; another user's socket hears nothing."""
    import websockets

    settings = {"database_url": fresh_database(), "redis_url": fresh_redis(4)}
    a = CloudServer(tmp_path / "a", services=["auth", "notification"], **settings).start()
    b = CloudServer(tmp_path / "b", services=["auth", "notification"], **settings).start()
    try:
        alice = signup(httpx.Client(base_url=a.url))["access_token"]
        bob = signup(httpx.Client(base_url=a.url))["access_token"]
        ws_url = b.url.replace("http", "ws") + "/v1/notify/ws"

        async def scenario() -> tuple[dict[str, Any], list[Any], int | None]:
            async with (
                websockets.connect(ws_url, additional_headers=bearer(alice)) as app,
                websockets.connect(f"{ws_url}?access_token={bob}") as other,
            ):
                assert json.loads(await app.recv())["type"] == "ready"
                assert json.loads(await other.recv())["type"] == "ready"
                async with httpx.AsyncClient(base_url=a.url) as http:
                    sent = await http.post(
                        "/v1/notify", json={"topic": "timer", "title": "Pasta"}, headers=bearer(alice)
                    )
                    assert sent.status_code == 202
                pushed = json.loads(await asyncio.wait_for(app.recv(), 5))
                await app.send("not json")
                error = json.loads(await asyncio.wait_for(app.recv(), 5))
                await other.send(json.dumps({"type": "ping", "t": 7}))
                heard = [json.loads(await asyncio.wait_for(other.recv(), 5))]
                pushed["error"] = error["code"]
            async with websockets.connect(ws_url) as anonymous:
                try:
                    await asyncio.wait_for(anonymous.recv(), 5)
                except websockets.ConnectionClosed as closed:
                    return pushed, heard, closed.rcvd.code if closed.rcvd else None
            return pushed, heard, None

        pushed, heard, refused_code = asyncio.run(scenario())
        assert pushed["type"] == "notification" and pushed["title"] == "Pasta" and pushed["topic"] == "timer"
        assert pushed["error"] == "NOTIFY_BAD_MESSAGE"
        assert heard == [{"type": "pong", "t": 7}]  # bob got no notification of alice's
        assert refused_code == 4401
    finally:
        a.stop()
        b.stop()
