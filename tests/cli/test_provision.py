"""A hub from zero to linked with the `companion` CLI, on loopback, against a real hub process
(`hub up`) and a real cloud process: init -> provision -> login -> link -> status. Plus the
failures a user meets: a wrong setup code, an unreachable host, an expired device code, a revoked hub."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from device_drivers.mosquitto import Mosquitto, free_port
from tests.cli.hub_process import HubProcess, cli, hub_env
from tests.cloud.server import CloudServer, bearer, fresh_database, signup


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CloudServer]:
    with CloudServer(
        tmp_path_factory.mktemp("cloud"),
        services=["auth", "profile"],
        database_url=fresh_database(),
        device_code_ttl_s="6",
        device_code_interval_s="1",
    ) as server:
        yield server


def ok(result: object) -> dict:  # type: ignore[type-arg]
    assert result.returncode == 0, result.stderr  # type: ignore[attr-defined]
    assert "Traceback" not in result.stderr  # type: ignore[attr-defined]
    return json.loads(result.stdout)  # type: ignore[attr-defined, no-any-return]


def refused(result: object, code: str) -> str:
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)  # type: ignore[attr-defined]
    assert "Traceback" not in result.stderr and f"[{code}]" in result.stderr, result.stderr  # type: ignore[attr-defined]
    return str(result.stderr)  # type: ignore[attr-defined]


def test_from_zero_to_linked_and_the_ways_it_fails(cloud: CloudServer, mosquitto: Mosquitto, tmp_path: Path) -> None:
    hub_root, operator = tmp_path / "hub", hub_env(tmp_path / "laptop")
    on_hub = hub_env(hub_root)

    # init, on the hub: an identity once; again changes nothing; --force replaces it.
    first = ok(cli(on_hub, "hub", "init", "--json"))
    assert first["created"] is True and first["hub_id"].startswith("hub-")
    again = ok(cli(on_hub, "hub", "init", "--json"))
    assert again == {**first, "created": False}
    key = (hub_root / "config" / "identity.key").read_bytes()

    hub = HubProcess(hub_root).start()
    try:
        target = f"127.0.0.1:{hub.port}"
        code = ok(cli(on_hub, "hub", "pair-code", "--json"))["code"]  # what the hub shows
        assert len(code) == 6 and code.isdigit()

        # provision, from the laptop: a wrong code first, then the right one.
        wrong = f"{(int(code) + 1) % 1_000_000:06d}"
        bad = cli(operator, "hub", "provision", target, "--code", wrong, "--name", "Kitchen hub", "--json")
        assert bad.returncode == 2 and "Traceback" not in bad.stderr
        failed = json.loads(bad.stdout)
        assert failed["ok"] is False and failed["error"]["code"] == "PAIRING_WRONG_CODE"
        assert [s["status"] for s in failed["steps"]] == ["ok", "fail"]
        closed = f"127.0.0.1:{free_port()}"
        refused(cli(operator, "hub", "provision", closed, "--code", code), "HUB_UNREACHABLE")

        operator["COMPANION_PROVISION_MQTT_PASSWORD"] = "broker-s3cret"  # never on the command line
        done = ok(
            cli(
                operator,
                "hub",
                "provision",
                target,
                "--code",
                code,
                "--name",
                "Kitchen hub",
                "--mqtt-username",
                "hub",
                "--room",
                "Kitchen",
                "--locale",
                "de-DE",
                "--timezone",
                "Europe/Berlin",
                "--wake-word",
                "alexa",
                "--mqtt-url",
                mosquitto.url,
                "--cloud-url",
                cloud.url,
                "--json",
            )
        )
        assert done["ok"] is True and done["hub"]["hub_id"] == first["hub_id"]
        assert [s["step"] for s in done["steps"]] == [
            "reach the hub",
            "pair with the setup code",
            "configure",
            "read back",
            "hub reaches the broker",
            "hub reaches the cloud",
        ]
        assert all(s["status"] == "ok" for s in done["steps"])
        token = (tmp_path / "laptop" / "config" / "hubs.toml").read_text().split('token = "')[1].split('"')[0]
        assert len(token) > 30 and token not in json.dumps(done)  # kept 0600 on the laptop, never printed
        saved = (hub_root / "config" / "settings.toml").read_text()
        assert 'wake_word = "alexa"' in saved and 'language = "de"' in saved and mosquitto.url in saved
        assert 'mqtt_password = "broker-s3cret"' in saved and "broker-s3cret" not in json.dumps(done)
        assert oct((hub_root / "config" / "settings.toml").stat().st_mode & 0o777) == "0o600"

        # login, then a device code that nobody approves expires with a clear error.
        user = signup(httpx.Client(base_url=cloud.url))
        ok_login = cli(
            operator, "cloud", "login", "--email", user["email"], "--password", user["password"], "--cloud", cloud.url
        )
        assert ok_login.returncode == 0, ok_login.stderr
        refused(cli(operator, "hub", "link", "--host", target, "--json"), "LINK_EXPIRED")

        # link: the hub gets its own device credentials; status from the laptop and on the hub agree.
        linked = ok(cli(operator, "hub", "link", "--host", target, "--approve", "--json"))
        assert linked["linked"] is True and linked["device_id"]
        hub_creds = (hub_root / "config" / "cloud-hub.toml").read_text()
        assert linked["device_id"] in hub_creds and "refresh_token" in hub_creds
        assert not (tmp_path / "laptop" / "config" / "cloud-hub.toml").exists()  # the hub's, not the laptop's
        remote = {r["check"]: r for r in ok(cli(operator, "status", "--host", target, "--json"))}
        assert remote["identity"]["detail"] == first["hub_id"]
        assert remote["credentials"]["status"] == "ok" and linked["device_id"] in remote["credentials"]["detail"]
        assert remote["broker"]["status"] == "ok" and remote["cloud"]["status"] == "ok"
        local = {r["check"]: r for r in ok(cli(on_hub, "status", "--json"))}
        assert local["credentials"]["status"] == "ok"
        refused(cli(operator, "hub", "link", "--host", target), "LINK_ALREADY")

        # unlink from the laptop: the cloud stops accepting the hub's tokens; then link again.
        unlinked = cli(operator, "hub", "unlink", "--host", target)
        assert unlinked.returncode == 0 and "unlinked" in unlinked.stderr, unlinked.stderr
        assert not (hub_root / "config" / "cloud-hub.toml").exists()
        dropped = {r["check"]: r for r in ok(cli(operator, "status", "--host", target, "--json"))}
        assert dropped["credentials"]["status"] == "warn" and "link" in dropped["credentials"]["fix"]
        refused(cli(operator, "hub", "unlink", "--host", target), "LINK_NONE")
        linked = ok(cli(operator, "hub", "link", "--host", target, "--approve", "--json"))

        # revoked: the user revokes the hub in their account; status says so, with the fix.
        account = bearer(user["access_token"])
        revoke = httpx.delete(f"{cloud.url}/v1/auth/devices/{linked['device_id']}", headers=account)
        assert revoke.status_code == 200, revoke.text
        after = {r["check"]: r for r in ok(cli(operator, "status", "--host", target, "--json"))}
        assert after["credentials"]["status"] == "fail" and after["credentials"]["fix"]
        doctor = cli(operator, "doctor", "--host", target, "--json")
        assert doctor.returncode == 1 and "Traceback" not in doctor.stderr

        # a revoked app token on the laptop: a clear message with the fix, no traceback.
        apps = ok(cli(on_hub, "hub", "apps", "--json"))
        ok(cli(on_hub, "hub", "revoke", apps[0]["id"], "--json"))
        message = refused(cli(operator, "status", "--host", target), "TOKEN_REVOKED")
        assert "provision it again" in message
    finally:
        assert hub.stop() == 0, hub.log.read_text()[-2000:]
    assert (hub_root / "config" / "identity.key").read_bytes() == key  # nothing replaced it
    forced = ok(cli(on_hub, "hub", "init", "--force", "--json"))
    assert forced["created"] is True and forced["hub_id"] != first["hub_id"]
