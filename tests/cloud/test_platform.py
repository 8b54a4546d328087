"""The platform: profile, health, metrics, rate limits across processes, the embedded default."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx

from cloud.common.app import all_services
from tests.cloud.conftest import METRICS_TOKEN
from tests.cloud.server import CloudServer, bearer, fresh_database, fresh_redis, signup


def test_profile_read_update_and_clients(client: httpx.Client) -> None:
    user = signup(client)
    auth = bearer(user["access_token"])
    assert client.get("/v1/profile", headers=auth).json()["name"] == "Ada"
    changed = client.patch(
        "/v1/profile",
        json={"language": "de", "timezone": "Europe/Berlin", "preferences": {"units": "metric"}},
        headers=auth,
    )
    assert changed.status_code == 200 and changed.json()["language"] == "de" and changed.json()["name"] == "Ada"
    bad_tz = client.patch("/v1/profile", json={"timezone": "Mars/Olympus"}, headers=auth)
    assert bad_tz.status_code == 422 and bad_tz.json()["error"]["code"] == "INVALID_TIMEZONE"
    hub = client.post(
        "/v1/auth/devices", json={"kind": "hub", "name": "Hall hub", "scopes": "profile:read"}, headers=auth
    ).json()
    read_only = bearer(hub["tokens"]["access_token"])
    assert client.get("/v1/profile", headers=read_only).json()["language"] == "de"
    denied = client.patch("/v1/profile", json={"name": "Mallory"}, headers=read_only)
    assert denied.status_code == 403 and denied.json()["error"]["code"] == "SCOPE_MISSING"
    clients = client.get("/v1/profile/clients", headers=auth).json()
    assert [(c["kind"], c["name"], c["active"]) for c in clients] == [("hub", "Hall hub", True)]


def test_health_metrics_and_request_ids(client: httpx.Client) -> None:
    health = client.get("/health").json()
    assert health == {
        "status": "ok",
        "db": True,
        "cache": True,
        "services": list(all_services()),
    }
    user = signup(client)
    tagged = client.get("/v1/profile", headers={**bearer(user["access_token"]), "X-Request-ID": "trace-me-42"})
    assert tagged.headers["x-request-id"] == "trace-me-42"
    metrics = client.get("/metrics", headers=bearer(METRICS_TOKEN))
    assert (
        metrics.status_code == 200 and 'companion_http_requests_total{method="GET",route="/v1/profile"' in metrics.text
    )
    # Operations data is the operator's: a user's token is not the metrics token, and none is refused.
    as_user = client.get("/metrics", headers=bearer(user["access_token"]))
    assert as_user.status_code == 401 and as_user.json()["error"]["code"] == "METRICS_TOKEN_INVALID"
    anonymous = client.get("/metrics")
    assert anonymous.status_code == 401 and anonymous.json()["error"]["code"] == "METRICS_TOKEN_MISSING"


def test_rate_limit_is_shared_by_two_processes(tmp_path: Path) -> None:
    db, redis_url = fresh_database(), fresh_redis(2)
    settings = {"database_url": db, "redis_url": redis_url, "rate_limit_per_minute": "20"}
    a = CloudServer(tmp_path / "a", services=["auth", "profile"], **settings).start()
    b = CloudServer(tmp_path / "b", services=["auth", "profile"], **settings).start()
    try:
        user = signup(httpx.Client(base_url=a.url))
        codes = []
        retry_after = None
        for i in range(30):
            response = httpx.get(f"{(a, b)[i % 2].url}/v1/profile", headers=bearer(user["access_token"]))
            codes.append(response.status_code)
            if response.status_code == 429:
                retry_after = response.headers.get("retry-after")
                assert response.json()["error"]["code"] == "RATE_LIMITED"
                assert response.json()["error"]["hint"] == "at most 20 per 60 s"
        assert codes.count(200) == 20 and codes.count(429) == 10, codes  # one window across both processes
        assert retry_after is not None and 1 <= int(retry_after) <= 60
        other = signup(httpx.Client(base_url=b.url))  # another user has a window of their own
        assert httpx.get(f"{b.url}/v1/profile", headers=bearer(other["access_token"])).status_code == 200
    finally:
        a.stop()
        b.stop()


def test_embedded_default_sqlite_and_memory(tmp_path: Path) -> None:
    server = CloudServer(tmp_path / "embedded", services=["auth", "profile"]).start()
    try:
        with httpx.Client(base_url=server.url) as c:
            assert c.get("/health").json()["db"] is True
            user = signup(c)
            assert c.get("/v1/profile", headers=bearer(user["access_token"])).status_code == 200
        assert (tmp_path / "embedded" / "cloud.sqlite3").exists()
    finally:
        server.stop()
    # Restarted on the same files: the account is still there (migrations are idempotent).
    again = CloudServer(tmp_path / "embedded", services=["auth"]).start()
    try:
        login = httpx.post(
            f"{again.url}/v1/auth/token",
            data={"grant_type": "password", "username": user["email"], "password": user["password"]},
        )
        assert login.status_code == 200
    finally:
        again.stop()


def test_binds_to_loopback_by_default(cloud: CloudServer) -> None:
    out = subprocess.run(["ss", "-ltnp"], capture_output=True, text=True, check=False).stdout
    local = [ln.split()[3] for ln in out.splitlines() if f":{cloud.port} " in ln]
    assert local == [f"127.0.0.1:{cloud.port}"], out


def _schemathesis(url: str, token: str, *extra: str) -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "schemathesis.cli",
            "run",
            f"{url}/openapi.json",
            "--checks",
            "not_a_server_error",
            "--header",
            f"Authorization: Bearer {token}",
            "--request-timeout",
            "60",
            "--no-color",
            *extra,
        ],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]


def test_schemathesis_finds_no_server_errors(cloud: CloudServer, client: httpx.Client) -> None:
    """Property-based requests from the OpenAPI schema: no 5xx, whatever is sent."""
    _schemathesis(
        cloud.url,
        signup(client)["access_token"],
        "--max-examples",
        "25",
        "--exclude-path-regex",
        "chat/completions|escalate",
    )


def test_schemathesis_on_the_llm_routes(tmp_path: Path) -> None:
    """The same for chat and escalation, on a server that caps completions at 4 tokens to stay quick."""
    server = CloudServer(
        tmp_path / "st", services=["auth", "chat", "escalation"], database_url=fresh_database(), llm_max_tokens="4"
    ).start()
    try:
        token = signup(httpx.Client(base_url=server.url))["access_token"]
        _schemathesis(
            server.url, token, "--max-examples", "10", "--include-path-regex", "chat/completions|escalate|models"
        )
    finally:
        server.stop()
