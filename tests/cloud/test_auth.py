"""Accounts, tokens, device identities and the device grant, over HTTP against a real server."""

from __future__ import annotations

import time

import httpx
import jwt

from tests.cloud.server import CloudServer, bearer, signup

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"


def test_register_login_and_me(client: httpx.Client) -> None:
    user = signup(client)
    me = client.get("/v1/auth/me", headers=bearer(user["access_token"]))
    assert me.status_code == 200 and me.json()["email"] == user["email"] and me.json()["device_id"] is None
    dup = client.post("/v1/auth/register", json={"email": user["email"].upper(), "password": "another long one"})
    assert dup.status_code == 409 and dup.json()["error"]["code"] == "ACCOUNT_EXISTS"
    wrong = client.post(
        "/v1/auth/token", data={"grant_type": "password", "username": user["email"], "password": "x" * 12}
    )
    assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_grant"
    weak = client.post("/v1/auth/register", json={"email": "w@example.com", "password": "short"})
    assert weak.status_code == 422 and weak.json()["error"]["code"] == "INVALID_REQUEST"


def test_refresh_tokens_rotate_and_reuse_revokes_the_family(client: httpx.Client) -> None:
    user = signup(client)
    first = client.post("/v1/auth/token", data={"grant_type": "refresh_token", "refresh_token": user["refresh_token"]})
    assert first.status_code == 200 and first.json()["refresh_token"] != user["refresh_token"]
    replay = client.post("/v1/auth/token", data={"grant_type": "refresh_token", "refresh_token": user["refresh_token"]})
    assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant"
    # The replay revoked the whole family: the token the thief or the user got is dead too.
    later = client.post(
        "/v1/auth/token", data={"grant_type": "refresh_token", "refresh_token": first.json()["refresh_token"]}
    )
    assert later.status_code == 400


def test_revoke_a_refresh_token(client: httpx.Client) -> None:
    user = signup(client)
    assert (
        client.post(
            "/v1/auth/revoke", json={"token": user["refresh_token"]}, headers=bearer(user["access_token"])
        ).status_code
        == 200
    )
    again = client.post("/v1/auth/token", data={"grant_type": "refresh_token", "refresh_token": user["refresh_token"]})
    assert again.status_code == 400


def test_device_authorization_grant(client: httpx.Client) -> None:
    user = signup(client)
    started = client.post("/v1/auth/device/code", data={"client_id": "hub-kitchen-01", "client_name": "Kitchen hub"})
    assert started.status_code == 200, started.text
    grant = started.json()
    assert set(grant) >= {
        "device_code",
        "user_code",
        "verification_uri",
        "verification_uri_complete",
        "expires_in",
        "interval",
    }
    poll = {"grant_type": DEVICE_GRANT, "device_code": grant["device_code"]}
    pending = client.post("/v1/auth/token", data=poll)
    assert pending.status_code == 400 and pending.json()["error"] == "authorization_pending"
    too_fast = client.post("/v1/auth/token", data=poll)
    assert too_fast.json()["error"] == "slow_down"
    approved = client.post(
        "/v1/auth/device/approve",
        json={"user_code": grant["user_code"].replace("-", "").lower()},
        headers=bearer(user["access_token"]),
    )
    assert approved.status_code == 200 and approved.json()["status"] == "approved"
    tokens = client.post("/v1/auth/token", data=poll)
    assert tokens.status_code == 200, tokens.text
    hub = tokens.json()
    claims = jwt.decode(hub["access_token"], options={"verify_signature": False})
    hub_scopes = {"chat", "escalate", "profile:read", "sync", "analytics", "notify", "vision"}
    assert claims["dev"] and set(claims["scope"].split()) == hub_scopes
    assert client.post("/v1/auth/token", data=poll).json()["error"] == "invalid_grant"  # single use
    devices = client.get("/v1/auth/devices", headers=bearer(user["access_token"])).json()
    assert [(d["kind"], d["name"], d["client_id"]) for d in devices] == [("hub", "Kitchen hub", "hub-kitchen-01")]
    # A device cannot act as the account holder.
    assert client.get("/v1/auth/devices", headers=bearer(hub["access_token"])).status_code == 403


def test_denied_and_expired_device_codes(client: httpx.Client) -> None:
    user = signup(client)
    grant = client.post("/v1/auth/device/code", data={"client_id": "hub-2"}).json()
    client.post(
        "/v1/auth/device/approve",
        json={"user_code": grant["user_code"], "approve": False},
        headers=bearer(user["access_token"]),
    )
    denied = client.post("/v1/auth/token", data={"grant_type": DEVICE_GRANT, "device_code": grant["device_code"]})
    assert denied.json()["error"] == "access_denied"
    unknown = client.post(
        "/v1/auth/device/approve", json={"user_code": "BCDF-GHJK"}, headers=bearer(user["access_token"])
    )
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "USER_CODE_UNKNOWN"
    bad_scope = client.post("/v1/auth/device/code", data={"client_id": "hub-3", "scope": "chat root"})
    assert bad_scope.json()["error"] == "invalid_scope"


def test_revoking_a_device_stops_its_tokens_at_once(client: httpx.Client) -> None:
    user = signup(client)
    made = client.post(
        "/v1/auth/devices",
        json={"kind": "app", "name": "Phone", "scopes": "chat profile:read"},
        headers=bearer(user["access_token"]),
    )
    assert made.status_code == 201
    app = made.json()
    assert client.get("/v1/profile", headers=bearer(app["tokens"]["access_token"])).status_code == 200
    assert (
        client.delete(f"/v1/auth/devices/{app['device']['id']}", headers=bearer(user["access_token"])).status_code
        == 200
    )
    dead = client.get("/v1/profile", headers=bearer(app["tokens"]["access_token"]))
    assert dead.status_code == 401 and dead.json()["error"]["code"] == "TOKEN_REVOKED"
    refresh = client.post(
        "/v1/auth/token", data={"grant_type": "refresh_token", "refresh_token": app["tokens"]["refresh_token"]}
    )
    assert refresh.status_code == 400


def test_unauthenticated_expired_forged_and_foreign(client: httpx.Client, cloud: CloudServer) -> None:
    alice, bob = signup(client), signup(client)
    for path in ("/v1/profile", "/v1/models", "/v1/auth/devices"):
        missing = client.get(path)
        assert missing.status_code == 401 and missing.json()["error"]["code"] == "TOKEN_MISSING", path
    claims = jwt.decode(alice["access_token"], options={"verify_signature": False})
    expired = jwt.encode(
        {**claims, "iat": int(time.time()) - 7200, "exp": int(time.time()) - 3600},
        "test-secret-" + "x" * 40,
        algorithm="HS256",
    )
    gone = client.get("/v1/profile", headers=bearer(expired))
    assert gone.status_code == 401 and gone.json()["error"]["code"] == "TOKEN_EXPIRED"
    forged = jwt.encode({**claims}, "not-the-server-key-but-long-enough-to-sign", algorithm="HS256")
    assert client.get("/v1/profile", headers=bearer(forged)).json()["error"]["code"] == "TOKEN_INVALID"
    # Bob's device is not Alice's to delete, and she cannot even tell it exists.
    phone = client.post(
        "/v1/auth/devices", json={"kind": "app", "name": "Bob's phone"}, headers=bearer(bob["access_token"])
    ).json()
    stolen = client.delete(f"/v1/auth/devices/{phone['device']['id']}", headers=bearer(alice["access_token"]))
    assert stolen.status_code == 404 and "Bob" not in stolen.text
    assert client.get("/health").status_code == 200  # health needs no token
