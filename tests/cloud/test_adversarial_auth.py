"""Issue #15, cloud authorization as an attacker tries it, on real cloud processes, PostgreSQL and Redis:
a device code redeemed once however many polls race (V5), a revoked token that no restart revives
(V6), and tokens of a deleted account refused with a code."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from cloud.common.authz import BUILT, device_key
from tests.cloud.adversary import PrivateRedis, delete_account, new_device, user_id
from tests.cloud.server import CloudServer, bearer, fresh_database, signup

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"


@dataclass
class Cloud:
    server: CloudServer
    database_url: str
    redis: PrivateRedis


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cloud]:
    workdir = tmp_path_factory.mktemp("adversarial-auth")
    database_url = fresh_database()
    with PrivateRedis(workdir / "redis") as redis:
        server = CloudServer(
            workdir / "cloud", services=["auth", "profile", "analytics"], database_url=database_url, redis_url=redis.url
        )
        with server:
            yield Cloud(server, database_url, redis)


def race(url: str, n: int, form: dict[str, str]) -> list[httpx.Response]:
    """`n` token requests with the same form, sent at the same instant from `n` connections."""
    start = threading.Barrier(n)
    answers: list[httpx.Response] = []

    def post() -> None:
        with httpx.Client(base_url=url, timeout=30) as c:
            c.get("/health")  # connected before the barrier, so the requests really do overlap
            start.wait()
            answers.append(c.post("/v1/auth/token", data=form))

    threads = [threading.Thread(target=post) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return answers


def test_a_device_code_is_redeemed_once_however_many_polls_race(cloud: Cloud) -> None:
    """V5: six hubs (or one hub's six retries) poll one approved code at the same instant."""
    url = cloud.server.url
    user = signup(httpx.Client(base_url=url))
    grant = httpx.post(f"{url}/v1/auth/device/code", data={"client_id": "hub-race", "client_name": "Race"}).json()
    approved = httpx.post(
        f"{url}/v1/auth/device/approve", json={"user_code": grant["user_code"]}, headers=bearer(user["access_token"])
    )
    assert approved.status_code == 200, approved.text
    answers = race(url, 6, {"grant_type": DEVICE_GRANT, "device_code": grant["device_code"]})
    assert sorted(a.status_code for a in answers) == [200, 400, 400, 400, 400, 400], [a.text for a in answers]
    refused = [a.json() for a in answers if a.status_code == 400]
    assert {(r["error"], r["code"]) for r in refused} == {("invalid_grant", "INVALID_GRANT")}, refused
    devices = httpx.get(f"{url}/v1/auth/devices", headers=bearer(user["access_token"])).json()
    assert [d["client_id"] for d in devices] == ["hub-race"]  # one identity, one token set


def test_a_refresh_token_is_rotated_once_however_many_uses_race(cloud: Cloud) -> None:
    """The same hole for refresh tokens: single use is a conditional update, not read-then-write. The
    losers count as reuse, so the family is revoked, the winner's new token with it (RFC 9700 §4.14)."""
    url = cloud.server.url
    user = signup(httpx.Client(base_url=url))
    answers = race(url, 6, {"grant_type": "refresh_token", "refresh_token": user["refresh_token"]})
    assert sorted(a.status_code for a in answers) == [200, 400, 400, 400, 400, 400], [a.text for a in answers]
    assert {a.json()["code"] for a in answers if a.status_code == 400} == {"INVALID_GRANT"}
    winner = next(a.json() for a in answers if a.status_code == 200)
    again = httpx.post(
        f"{url}/v1/auth/token", data={"grant_type": "refresh_token", "refresh_token": winner["refresh_token"]}
    )
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"


def rebuilt(redis: PrivateRedis, device_id: str, timeout_s: float = 10.0) -> None:
    import redis as redis_py

    cache = redis_py.from_url(redis.url, decode_responses=True)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if cache.get(BUILT) and cache.get(device_key(device_id)) == "revoked":
            return
        time.sleep(0.05)
    raise AssertionError(f"Redis was not refilled with the revocation: {sorted(cache.keys('authz:*'))}")


def test_a_revoked_token_stays_revoked_across_redis_and_cloud_restarts(tmp_path: Path) -> None:
    """V6: revocation lived only in Redis (loaded at cloud start), so a Redis restart revived it. Two
    processes share Redis and PostgreSQL, as behind a load balancer: B never saw the revocation A
    made, and asks only after Redis restarted; then the cloud restarts, and Redis again."""
    database_url = fresh_database()
    with PrivateRedis(tmp_path / "redis") as redis:
        settings = {"database_url": database_url, "redis_url": redis.url}
        services = ["auth", "profile", "analytics"]
        a = CloudServer(tmp_path / "a", services=services, **settings).start()
        b = CloudServer(tmp_path / "b", services=services, **settings).start()
        c = None
        try:
            api = httpx.Client(base_url=a.url, timeout=30)
            user = signup(api)
            stolen = new_device(api, user["access_token"], "profile:read analytics")
            kept = new_device(api, user["access_token"], "profile:read analytics")
            for server in (a, b):  # both have seen both tokens work (and cached that)
                for device in (stolen, kept):
                    seen = httpx.get(f"{server.url}/v1/profile", headers=bearer(device["tokens"]["access_token"]))
                    assert seen.status_code == 200, seen.text
            gone = api.delete(f"/v1/auth/devices/{stolen['device']['id']}", headers=bearer(user["access_token"]))
            assert gone.status_code == 200, gone.text

            def check(url: str, when: str) -> None:
                for path in ("/v1/profile", "/v1/analytics/events", "/v1/auth/me"):
                    dead = httpx.get(f"{url}{path}", headers=bearer(stolen["tokens"]["access_token"]), timeout=30)
                    assert dead.status_code == 401, (when, path, dead.status_code, dead.text)
                    assert dead.json()["error"]["code"] == "TOKEN_REVOKED", (when, path)
                    alive = httpx.get(f"{url}{path}", headers=bearer(kept["tokens"]["access_token"]), timeout=30)
                    assert alive.status_code == 200, (when, path, alive.text)

            check(a.url, "revoked, on the process that revoked")
            redis.restart()
            check(b.url, "after a Redis restart, on a process that never saw the revocation")
            check(a.url, "after a Redis restart")
            rebuilt(redis, stolen["device"]["id"])  # a process noticed the new connection and refilled Redis
            a.stop()
            b.stop()
            c = CloudServer(tmp_path / "c", services=services, **settings).start()
            check(c.url, "after a cloud restart")
            redis.restart()
            check(c.url, "after a cloud restart, then a Redis restart")
        finally:
            for server in (a, b, c):
                if server is not None:
                    server.stop()


def test_a_deleted_accounts_tokens_are_refused_with_a_code(cloud: Cloud) -> None:
    """An account deleted in the database: its user and device tokens get 401 ACCOUNT_GONE, reads and
    writes alike (before: /me and the profile still answered, and every write was a 500)."""
    c = httpx.Client(base_url=cloud.server.url, timeout=30)
    user = signup(c)
    hub = new_device(c, user["access_token"], "profile:read analytics", kind="hub")
    owner = user_id(c, user["access_token"])
    assert c.get("/v1/profile", headers=bearer(hub["tokens"]["access_token"])).status_code == 200
    delete_account(cloud.database_url, owner)
    event = {"events": [{"id": "e1", "hub_id": "h", "type": "turn", "at": "2026-01-01T00:00:00Z", "route": "local"}]}
    attempts = [
        ("PATCH", "/v1/profile", user["access_token"], {"name": "Mallory"}),
        ("GET", "/v1/auth/me", user["access_token"], None),
        ("GET", "/v1/profile", user["access_token"], None),
        ("POST", "/v1/analytics/events", hub["tokens"]["access_token"], event),
        ("GET", "/v1/profile", hub["tokens"]["access_token"], None),
    ]
    for method, path, token, body in attempts:
        answer = c.request(method, path, json=body, headers=bearer(token))
        assert answer.status_code == 401, (method, path, answer.status_code, answer.text)
        assert answer.json()["error"]["code"] == "ACCOUNT_GONE", (method, path, answer.text)
    refresh = c.post("/v1/auth/token", data={"grant_type": "refresh_token", "refresh_token": user["refresh_token"]})
    assert refresh.status_code == 400 and refresh.json()["error"] == "invalid_grant"


def test_a_fresh_account_deleted_before_its_first_request_is_refused(cloud: Cloud) -> None:
    """No cached answer to fall back on: the first request after the deletion is already refused."""
    c = httpx.Client(base_url=cloud.server.url, timeout=30)
    user = signup(c)
    import jwt

    owner = jwt.decode(user["access_token"], options={"verify_signature": False})["sub"]
    delete_account(cloud.database_url, owner)
    answer = c.get("/v1/profile", headers=bearer(user["access_token"]))
    assert answer.status_code == 401 and answer.json()["error"]["code"] == "ACCOUNT_GONE", answer.text
