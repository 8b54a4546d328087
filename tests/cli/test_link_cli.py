"""From zero to linked on loopback: init -> login -> link -> status -> unlink, against a real cloud process."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.cloud.server import CloudServer, bearer, fresh_database, signup

EXE = [sys.executable, "-m", "cli"]


@pytest.fixture
def linked_cloud(tmp_path: Path):  # type: ignore[no-untyped-def]
    with CloudServer(
        tmp_path / "cloud",
        services=["auth", "profile"],
        database_url=fresh_database(),
        device_code_interval_s="1",
        device_code_ttl_s="4",
    ) as server:
        yield server


def hub(tmp_path: Path, cloud_url: str, *args: str, timeout: int = 60) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "COMPANION_CONFIG_DIR": str(tmp_path / "hub" / "config"),
        "COMPANION_DATA_DIR": str(tmp_path / "hub" / "data"),
        "COMPANION_CLOUD_URL": cloud_url,
    }
    return subprocess.run([*EXE, *args], env=env, capture_output=True, text=True, timeout=timeout, check=False)


def checks(proc: subprocess.CompletedProcess[str]) -> dict[str, dict[str, str]]:
    return {r["check"]: r for r in json.loads(proc.stdout)}


def test_provision_login_link_status_unlink(linked_cloud: CloudServer, tmp_path: Path) -> None:
    url = linked_cloud.url
    user = signup(httpx.Client(base_url=url))
    first = hub(tmp_path, url, "hub", "init", "--json")
    assert first.returncode == 0 and json.loads(first.stdout)["created"] is True
    hub_id = json.loads(first.stdout)["hub_id"]
    key = tmp_path / "hub" / "config" / "identity.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    again = json.loads(hub(tmp_path, url, "hub", "init", "--json").stdout)
    assert again == {**again, "hub_id": hub_id, "created": False}  # re-running changes nothing

    assert (
        hub(tmp_path, url, "cloud", "login", "--email", user["email"], "--password", user["password"]).returncode == 0
    )
    linked = hub(tmp_path, url, "hub", "link", "--name", "Kitchen hub", "--approve", "--json")
    assert linked.returncode == 0, linked.stderr
    assert json.loads(linked.stdout)["linked"] is True and "enter" in linked.stderr
    devices = httpx.get(f"{url}/v1/auth/devices", headers=bearer(user["access_token"])).json()
    assert [(d["name"], d["client_id"]) for d in devices] == [("Kitchen hub", hub_id)]

    status = checks(hub(tmp_path, url, "status", "--json"))
    assert status["identity"]["status"] == "ok" and status["cloud"]["status"] == "ok"
    assert status["credentials"]["status"] == "ok" and status["clock"]["status"] == "ok"

    assert hub(tmp_path, url, "hub", "unlink").returncode == 0
    assert httpx.get(f"{url}/v1/auth/devices", headers=bearer(user["access_token"])).json()[0]["revoked_at"]
    after = checks(hub(tmp_path, url, "status", "--json"))
    assert after["credentials"]["status"] == "warn"  # not linked any more


def test_revoked_hub_is_reported_with_the_fix(linked_cloud: CloudServer, tmp_path: Path) -> None:
    url = linked_cloud.url
    user = signup(httpx.Client(base_url=url))
    hub(tmp_path, url, "hub", "init")
    hub(tmp_path, url, "cloud", "login", "--email", user["email"], "--password", user["password"])
    assert hub(tmp_path, url, "hub", "link", "--approve").returncode == 0
    device = httpx.get(f"{url}/v1/auth/devices", headers=bearer(user["access_token"])).json()[0]
    httpx.delete(f"{url}/v1/auth/devices/{device['id']}", headers=bearer(user["access_token"]))  # from the app
    creds = tmp_path / "hub" / "config" / "cloud-hub.toml"
    creds.write_text(creds.read_text().replace("expires_at = ", "expires_at = 0 #"))  # force a refresh
    doctor = hub(tmp_path, url, "doctor", "--json")
    assert doctor.returncode == 1
    result = checks(doctor)["credentials"]
    assert result["status"] == "fail" and "companion hub link" in result["fix"]


def test_bad_input(linked_cloud: CloudServer, tmp_path: Path) -> None:
    url = linked_cloud.url
    user = signup(httpx.Client(base_url=url))
    no_identity = hub(tmp_path, url, "hub", "link")
    assert (
        no_identity.returncode == 2
        and "HUB_IDENTITY" in no_identity.stderr
        and "companion hub init" in no_identity.stderr
    )
    hub(tmp_path, url, "hub", "init")
    unreachable = hub(tmp_path, "http://127.0.0.1:9", "hub", "link")
    assert (
        unreachable.returncode == 2
        and "CLOUD_UNREACHABLE" in unreachable.stderr
        and "Traceback" not in unreachable.stderr
    )
    expired = hub(tmp_path, url, "hub", "link")  # nobody approves within the 4 s the server allows
    assert expired.returncode == 2 and "LINK_EXPIRED" in expired.stderr
    hub(tmp_path, url, "cloud", "login", "--email", user["email"], "--password", user["password"])
    wrong = hub(tmp_path, url, "cloud", "approve", "BCDF-GHJK")
    assert wrong.returncode == 2 and "USER_CODE_UNKNOWN" in wrong.stderr
    bad_login = hub(tmp_path, url, "cloud", "login", "--email", user["email"], "--password", "wrong password!")
    assert bad_login.returncode == 2 and "INVALID_GRANT" in bad_login.stderr and "Traceback" not in bad_login.stderr
