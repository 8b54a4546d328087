"""Issue #15, the platform under failure, on real cloud processes: a database that breaks or goes away
answers with a code (and 503 + Retry-After for an outage) on a connection that stays usable, and
webhooks may not reach loopback or private addresses through any IPv6 spelling of IPv4."""

from __future__ import annotations

import asyncio
import http.client
import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from cloud.common.errors import ApiError
from cloud.notification.targets import check_webhook_url, is_internal
from tests.cloud.adversary import PrivateRedis, TcpProxy, database_target, proxied, sql
from tests.cloud.server import CloudServer, bearer, fresh_database, signup

# Loopback, private and link-local IPv4, spelled as IPv6 in every way that embeds an IPv4 address.
EMBEDDED = [
    "::ffff:127.0.0.1",  # IPv4-mapped
    "::ffff:7f00:1",
    "::127.0.0.1",  # IPv4-compatible (deprecated, still routed by some stacks)
    "::ffff:0:127.0.0.1",  # IPv4-translated (SIIT)
    "64:ff9b::7f00:1",  # NAT64 well-known prefix
    "64:ff9b::10.0.0.1",
    "64:ff9b:1::a00:1",  # NAT64 local-use prefix
    "2002:7f00:1::",  # 6to4 of 127.0.0.1
    "2002:a9fe:a9fe::1",  # 6to4 of 169.254.169.254 (cloud metadata)
    "2002:c0a8:101::1",  # 6to4 of 192.168.1.1
    "2001:0:4136:e378:8000:63bf:80ff:fffe",  # Teredo, client 127.0.0.1
    "2001:0:a00:1::1",  # Teredo, server 10.0.0.1
]


@pytest.mark.parametrize("address", EMBEDDED)
def test_every_ipv6_spelling_of_an_internal_ipv4_is_internal(address: str) -> None:
    assert is_internal(address), address


def test_public_addresses_stay_allowed() -> None:
    for address in (
        "93.184.216.34",
        "2606:2800:220:1:248:1893:25c8:1946",
        "64:ff9b::5db8:d822",
        "2002:5db8:d822::1",
        "::ffff:93.184.216.34",
    ):
        assert not is_internal(address), address


def test_the_api_refuses_webhooks_at_embedded_ipv4_addresses(tmp_path: Path) -> None:
    with CloudServer(tmp_path / "cloud", services=["auth", "notification"], database_url=fresh_database()) as server:
        c = httpx.Client(base_url=server.url, timeout=30)
        headers = bearer(signup(c)["access_token"])
        for address in EMBEDDED:
            made = c.post("/v1/notify/channels", json={"url": f"http://[{address}]:8080/hook"}, headers=headers)
            assert made.status_code == 422, (address, made.status_code, made.text)
            assert made.json()["error"]["code"] == "NOTIFY_PRIVATE_URL", (address, made.text)
        assert c.get("/v1/notify/channels", headers=headers).json() == []

    async def refused(url: str) -> str:
        try:
            await check_webhook_url(url, allow_private=False)
        except ApiError as err:
            return str(err.code)
        return "allowed"

    assert asyncio.run(refused("http://[64:ff9b::5db8:d822]/hook")) == "allowed"  # a public one, not contacted


class OneConnection:
    """Requests on one keep-alive TCP connection, never silently replaced by a new one (as httpx's
    pool would): a server that closes it after an answer shows up as an error on the next request."""

    def __init__(self, url: str) -> None:
        host, port = url.removeprefix("http://").split(":")
        self.conn = http.client.HTTPConnection(host, int(port), timeout=30)
        self.conn.connect()
        self.local = self.conn.sock.getsockname()

    def request(self, method: str, path: str, token: str | None = None, body: Any = None) -> tuple[int, Any]:
        headers = {"Content-Type": "application/json", **(bearer(token) if token else {})}
        self.conn.request(method, path, body=None if body is None else json.dumps(body), headers=headers)
        answer = self.last = self.conn.getresponse()
        data = json.loads(answer.read() or b"null")
        assert self.conn.sock is not None and self.conn.sock.getsockname() == self.local, "a new connection"
        assert (answer.getheader("connection") or "").lower() != "close"
        return answer.status, data


def test_a_database_error_is_a_coded_500_that_keeps_the_connection(tmp_path: Path) -> None:
    """A query that fails inside the session dependency (here: a table renamed under the cloud) gets
    500 INTERNAL, and the next request on the same keep-alive connection works (before: it was reset)."""
    database_url = fresh_database()
    with CloudServer(tmp_path / "cloud", services=["auth", "profile"], database_url=database_url) as server:
        token = signup(httpx.Client(base_url=server.url))["access_token"]
        conn = OneConnection(server.url)
        sql(database_url, ("ALTER TABLE profiles RENAME TO profiles_moved",))
        try:
            status, body = conn.request("GET", "/v1/profile", token)
            assert (status, body["error"]["code"]) == (500, "INTERNAL"), body
            status, body = conn.request("PATCH", "/v1/profile", token, {"name": "x"})
            assert (status, body["error"]["code"]) == (500, "INTERNAL"), body
        finally:
            sql(database_url, ("ALTER TABLE profiles_moved RENAME TO profiles",))
        status, body = conn.request("GET", "/v1/profile", token)
        assert (status, body["name"]) == (200, "Ada")
        assert conn.request("GET", "/health")[1]["db"] is True


def test_a_database_outage_is_a_503_with_retry_after(tmp_path: Path) -> None:
    """PostgreSQL goes away (its connections dropped, new ones refused): 503 DATABASE_UNAVAILABLE with
    Retry-After on the same connection, then normal answers once it is back (before: 500 INTERNAL)."""
    database_url = fresh_database()
    proxy = TcpProxy(database_target(database_url))
    with CloudServer(
        tmp_path / "cloud", services=["auth", "profile"], database_url=proxied(database_url, proxy), log_level="WARNING"
    ) as server:
        user = signup(httpx.Client(base_url=server.url))
        token = user["access_token"]
        conn = OneConnection(server.url)
        assert conn.request("GET", "/v1/profile", token)[0] == 200
        proxy.cut()
        try:
            for method, path, body in [
                ("GET", "/v1/profile", None),
                ("PATCH", "/v1/profile", {"name": "B"}),
                ("GET", "/v1/auth/me", None),
                ("GET", "/v1/profile", None),
            ]:
                status, answer = conn.request(method, path, token, body)
                assert (status, answer["error"]["code"]) == (503, "DATABASE_UNAVAILABLE"), (method, path, answer)
                assert 1 <= int(conn.last.getheader("retry-after") or 0) <= 60
            login = httpx.post(
                f"{server.url}/v1/auth/token",
                data={"grant_type": "password", "username": user["email"], "password": user["password"]},
            )
            assert login.status_code == 503 and login.json()["error"]["code"] == "DATABASE_UNAVAILABLE"
            health = conn.request("GET", "/health")[1]
            assert (health["status"], health["db"]) == ("degraded", False)
        finally:
            proxy.restore()
        assert conn.request("GET", "/v1/profile", token)[0] == 200  # the same connection, recovered


def test_a_redis_outage_is_a_503_and_the_cloud_recovers(tmp_path: Path) -> None:
    """Rate limits and the authorization cache live in Redis: without it, 503 CACHE_UNAVAILABLE with
    Retry-After (not a 500), and normal answers on the same connection once it is back."""
    with (
        PrivateRedis(tmp_path / "redis") as redis,
        CloudServer(
            tmp_path / "cloud",
            services=["auth", "profile"],
            database_url=fresh_database(),
            redis_url=redis.url,
            log_level="WARNING",
        ) as server,
    ):
        token = signup(httpx.Client(base_url=server.url))["access_token"]
        conn = OneConnection(server.url)
        assert conn.request("GET", "/v1/profile", token)[0] == 200
        redis.stop()
        try:
            status, answer = conn.request("GET", "/v1/profile", token)
            assert (status, answer["error"]["code"]) == (503, "CACHE_UNAVAILABLE"), answer
            assert 1 <= int(conn.last.getheader("retry-after") or 0) <= 60
            health = conn.request("GET", "/health")[1]
            assert (health["status"], health["cache"], health["db"]) == ("degraded", False, True)
        finally:
            redis.start()
        assert conn.request("GET", "/v1/profile", token)[0] == 200
