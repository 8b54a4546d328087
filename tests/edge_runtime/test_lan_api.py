"""The hub's LAN API on a real server and broker: pairing and its limits, tokens, devices, asking
with each app's own conversation, the event stream, history, settings, and the auth guard."""

from __future__ import annotations

import asyncio
import json
import os
import ssl
import stat
from pathlib import Path
from typing import Any

import httpx
import websockets

from device_drivers.mosquitto import Mosquitto
from edge_runtime.api.pairing import PairingStore
from edge_runtime.app_events import TURN_EVENTS
from edge_runtime.settings import EdgeSettings
from tests.edge_runtime.lan_hub import bearer, lan_hub


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def test_pairing_trades_the_code_for_a_token_once(mosquitto: Mosquitto, tmp_path: Path) -> None:
    async def scenario() -> None:
        async with lan_hub(mosquitto.url, tmp_path) as hub, httpx.AsyncClient(base_url=hub.url) as http:
            assert (await http.get("/health")).json()["hub_id"] == "hub-test0000000000"  # no token needed
            assert (await http.get("/v1/pairing")).json()["paired_apps"] == 0
            code = hub.code()
            wrong = await http.post("/v1/pairing", json={"code": f"{(int(code) + 1) % 1_000_000:06d}"})
            assert wrong.status_code == 403 and wrong.json()["error"]["code"] == "PAIRING_WRONG_CODE"
            assert "4 tries left" in wrong.json()["error"]["hint"]
            malformed = await http.post("/v1/pairing", json={"code": "12ab56"})
            assert malformed.status_code == 422 and malformed.json()["error"]["code"] == "VALIDATION_ERROR"
            paired = await http.post("/v1/pairing", json={"code": code, "name": "Ada's phone"})
            assert paired.status_code == 201
            token = paired.json()["token"]
            again = await http.post("/v1/pairing", json={"code": code})
            assert again.status_code == 409 and again.json()["error"]["code"] == "PAIRING_NO_CODE"  # single use
            apps = (await http.get("/v1/apps", headers=bearer(token))).json()
            assert [(a["name"], a["this"]) for a in apps] == [("Ada's phone", True)]
            stored = (tmp_path / "data" / "api.sqlite3").read_bytes()
            assert token.encode() not in stored  # only its hash is kept
            assert stat.S_IMODE(os.stat(tmp_path / "data" / "api.sqlite3").st_mode) == 0o600

    run(scenario())


def test_pairing_cannot_be_brute_forced(mosquitto: Mosquitto, tmp_path: Path) -> None:
    async def scenario() -> None:
        limits = {"pairing_max_failures": 3}
        async with lan_hub(mosquitto.url, tmp_path, **limits) as hub, httpx.AsyncClient(base_url=hub.url) as http:
            code = hub.code()
            guesses = [f"{(int(code) + i) % 1_000_000:06d}" for i in range(1, 4)]
            answers = [(await http.post("/v1/pairing", json={"code": g})).json()["error"]["code"] for g in guesses]
            assert answers == ["PAIRING_WRONG_CODE", "PAIRING_WRONG_CODE", "PAIRING_LOCKED"]
            late = await http.post("/v1/pairing", json={"code": code})  # the right code, too late
            assert late.status_code == 409 and late.json()["error"]["code"] == "PAIRING_NO_CODE"
            fresh = hub.code()  # what `companion hub pair-code` does: a new code
            assert (await http.post("/v1/pairing", json={"code": fresh})).status_code == 201
            codes = []
            for _ in range(7):  # one address, ten tries a minute, whatever the code's state
                codes.append((await http.post("/v1/pairing", json={"code": "000000"})).status_code)
            assert codes == [409] * 5 + [429] * 2

    run(scenario())


def test_every_route_needs_a_token_except_health_and_pairing(mosquitto: Mosquitto, tmp_path: Path) -> None:
    async def scenario() -> None:
        async with lan_hub(mosquitto.url, tmp_path) as hub, httpx.AsyncClient(base_url=hub.url) as http:
            spec = (await http.get("/openapi.json")).json()
            open_routes = {("get", "/health"), ("get", "/v1/pairing"), ("post", "/v1/pairing")}
            checked = 0
            for path, methods in spec["paths"].items():
                for method in methods:
                    if (method, path) in open_routes:
                        continue
                    url = path.replace("{ref}", "kitchen_light").replace("{app_id}", "x").replace("{session_id}", "x")
                    for headers in ({}, bearer("cmpa_not-a-real-token")):
                        answer = await http.request(method.upper(), url, headers=headers, json={})
                        assert answer.status_code == 401, (method, path, answer.status_code, answer.text)
                        code = answer.json()["error"]["code"]
                        # /metrics takes the operator's metrics token, never an app's (off until one is set)
                        wanted = (
                            ("METRICS_TOKEN_NOT_SET",) if path == "/metrics" else ("TOKEN_MISSING", "TOKEN_INVALID")
                        )
                        assert code in wanted, (method, path, code)
                    checked += 1
            assert checked >= 10
            # The event stream's messages are in the schema too: every kind of event a turn can send.
            event = spec["components"]["schemas"]["HubEvent"]
            kinds = {
                "state",
                "transcript",
                "route",
                "action",
                "sentence",
                "reply",
                "turn_done",
                "timer",
                "announcement",
                "error",
                "camera",
                "device",
            }
            assert set(event["discriminator"]["mapping"]) == kinds
            reply = spec["components"]["schemas"]["ReplyEvent"]
            assert {"text", "heard", "route", "intent"} <= set(reply["properties"]) and "text" in reply["required"]

    run(scenario())


def test_revoked_tokens_are_refused_on_rest_and_the_event_stream(mosquitto: Mosquitto, tmp_path: Path) -> None:
    async def scenario() -> list[tuple[int | None, str | None]]:
        async with lan_hub(mosquitto.url, tmp_path) as hub, httpx.AsyncClient(base_url=hub.url) as http:
            phone, tablet = await hub.pair(http, "phone"), await hub.pair(http, "tablet")
            ws_url = hub.url.replace("http", "ws") + f"/v1/events?access_token={tablet['token']}"
            closes = []
            async with websockets.connect(ws_url) as live:  # open before the revoke: cut off by it
                assert json.loads(await live.recv())["type"] == "ready"
                revoked = await http.delete(f"/v1/apps/{tablet['app']['id']}", headers=bearer(phone["token"]))
                assert revoked.json()["revoked"] is True
                closes.append(await _closed(live))
            replay = await http.get("/v1/devices", headers=bearer(tablet["token"]))
            assert replay.status_code == 401 and replay.json()["error"]["code"] == "TOKEN_REVOKED"
            assert (await http.get("/v1/devices", headers=bearer(phone["token"]))).status_code == 200
            async with websockets.connect(ws_url) as ws:
                closes.append(await _closed(ws))
            # `companion hub revoke` writes the store from another process; the hub notices.
            phone_url = hub.url.replace("http", "ws") + f"/v1/events?access_token={phone['token']}"
            async with websockets.connect(phone_url) as live:
                assert json.loads(await live.recv())["type"] == "ready"
                other_process = PairingStore(tmp_path / "data" / "api.sqlite3")
                other_process.revoke(phone["app"]["id"])
                other_process.close()
                closes.append(await _closed(live))
        return closes

    assert run(scenario()) == [(4401, "TOKEN_REVOKED")] * 3


async def _closed(ws: Any) -> tuple[int | None, str | None]:
    """Read until the hub closes the stream; its close code and reason."""
    try:
        while True:
            await asyncio.wait_for(ws.recv(), 5)
    except websockets.ConnectionClosed as closed:
        return (closed.rcvd.code, closed.rcvd.reason) if closed.rcvd else (None, None)


def test_oversized_and_strange_requests_get_coded_errors(mosquitto: Mosquitto, tmp_path: Path) -> None:
    async def scenario() -> None:
        async with lan_hub(mosquitto.url, tmp_path) as hub, httpx.AsyncClient(base_url=hub.url) as http:
            huge = await http.post(
                "/v1/devices/kitchen_light",
                content=b"[" + b"1," * 400_000 + b"1]",
                headers={"content-type": "application/json"},
            )
            assert huge.status_code == 413 and huge.json()["error"]["code"] == "PAYLOAD_TOO_LARGE"  # before auth

            async def chunks() -> Any:  # streamed, no length declared
                for _ in range(100):
                    yield b" " * 8192

            streamed = await http.post("/v1/ask", content=chunks(), headers={"content-type": "application/json"})
            assert streamed.status_code == 413 and streamed.json()["error"]["code"] == "PAYLOAD_TOO_LARGE"
            arabic = await http.post("/v1/pairing", json={"code": "\u0661\u0662\u0663\u0664\u0665\u0666"})
            assert arabic.status_code == 422 and arabic.json()["error"]["code"] == "VALIDATION_ERROR"
            nowhere = await http.get("/v1/nothing-here")
            assert nowhere.status_code == 404 and nowhere.json()["error"]["code"] == "NOT_FOUND"
            token = (await hub.pair(http))["token"]
            streams = [
                await websockets.connect(hub.url.replace("http", "ws") + f"/v1/events?access_token={token}")
                for _ in range(9)
            ]
            try:
                assert [json.loads(await ws.recv())["type"] for ws in streams[:8]] == ["ready"] * 8
                assert await _closed(streams[8]) == (4429, "TOO_MANY_STREAMS")  # one app's share of streams
            finally:
                for ws in streams:
                    await ws.close()

    run(scenario())


def test_devices_are_listed_and_controlled_until_confirmed(mosquitto: Mosquitto, tmp_path: Path) -> None:
    async def scenario() -> None:
        async with lan_hub(mosquitto.url, tmp_path) as hub, httpx.AsyncClient(base_url=hub.url) as http:
            headers = bearer((await hub.pair(http))["token"])
            listed = {d["name"]: d for d in (await http.get("/v1/devices", headers=headers)).json()}
            assert len(listed) == 30 and listed["Kitchen Light"]["attributes"]["on"]["writable"] is True
            done = await http.post("/v1/devices/Kitchen Light", json={"on": True, "brightness": 40}, headers=headers)
            assert done.status_code == 200 and done.json()["confirmed"] is True
            assert hub.home.states()["Kitchen Light"]["on"] is True  # the simulated device changed
            unknown = await http.post("/v1/devices/Garden Gnome", json={"on": True}, headers=headers)
            assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "DEVICE_UNKNOWN"
            bad = await http.post("/v1/devices/Kitchen Light", json={"brightness": "very"}, headers=headers)
            assert bad.status_code == 422 and bad.json()["error"]["code"] == "DEVICE_INVALID_COMMAND"
            empty = await http.post("/v1/devices/Kitchen Light", json={}, headers=headers)
            assert empty.status_code == 422

    run(scenario())


def test_asking_streams_events_and_keeps_each_apps_conversation(mosquitto: Mosquitto, tmp_path: Path) -> None:
    async def scenario() -> tuple[list[dict[str, Any]], dict[str, Any]]:
        async with lan_hub(mosquitto.url, tmp_path) as hub, httpx.AsyncClient(base_url=hub.url) as http:
            pa, pb = await hub.pair(http, "a"), await hub.pair(http, "b")
            a, b = bearer(pa["token"]), bearer(pb["token"])
            ws_url = hub.url.replace("http", "ws") + "/v1/events"
            async with (
                websockets.connect(ws_url, additional_headers=a) as ws,
                websockets.connect(ws_url, additional_headers=b) as ws_b,
            ):
                assert json.loads(await ws.recv())["type"] == "ready"
                assert json.loads(await ws_b.recv())["type"] == "ready"
                on = (await http.post("/v1/ask", json={"text": "turn on the kitchen light"}, headers=a)).json()
                assert on["route"] == "local-intent" and on["actions"][0]["confirmed"] is True
                events: list[dict[str, Any]] = []
                while not any(e["type"] == "reply" for e in events):
                    events.append(json.loads(await asyncio.wait_for(ws.recv(), 5)))
                other = (await http.post("/v1/ask", json={"text": "turn it off"}, headers=b)).json()
                assert other["actions"] == []  # b never talked about a device: "it" is nothing to b
                assert hub.home.states()["Kitchen Light"]["on"] is True
                b_saw: list[dict[str, Any]] = []
                while not any(e["type"] == "reply" for e in b_saw):
                    b_saw.append(json.loads(await asyncio.wait_for(ws_b.recv(), 5)))
                mine = (await http.post("/v1/ask", json={"text": "turn it off"}, headers=a)).json()
                assert [x["confirmed"] for x in mine["actions"]] == [True]
                assert hub.home.states()["Kitchen Light"]["on"] is False
            history = (await http.get("/v1/history", params={"limit": 10}, headers=a)).json()
            theirs = (await http.get("/v1/history", params={"conversation": other["conversation"]}, headers=a)).json()
            b_history = (await http.get("/v1/history", headers=b)).json()
            return events, {"history": history, "on": on, "b_saw": b_saw, "theirs": theirs, "b_history": b_history}

    events, seen = run(scenario())
    kinds = [e["type"] for e in events]
    assert "transcript" in kinds and "device" in kinds and kinds[-1] == "reply"
    for e in events:  # the same models the WebRTC data channel sends, as /openapi.json publishes them
        TURN_EVENTS.validate_python(e)
    decided = [e for e in events if e["type"] in ("route", "action")]
    assert [e["type"] for e in decided] == ["route", "action"] and decided[0]["route"] == "local-intent"
    assert (decided[1]["name"], decided[1]["outcome"], decided[1]["values"]) == (
        "Kitchen Light",
        "confirmed",
        {"on": True},
    )
    device = next(e for e in events if e["type"] == "device")
    assert device["device"] == "ha:kitchen_light" and device["event"] == "state" and device["values"]["on"] is True
    # Each app sees its own conversation, in history and on the stream; never the other's.
    assert [h["text"] for h in seen["history"]] == ["turn it off", "turn on the kitchen light"]
    assert seen["history"][-1]["reply"] == seen["on"]["reply"] and seen["history"][-1]["route"] == "local-intent"
    assert seen["theirs"] == [] and [h["text"] for h in seen["b_history"]] == ["turn it off"]
    b_conversations = {e["conversation"] for e in seen["b_saw"] if "conversation" in e}
    assert len(b_conversations) == 1 and b_conversations != {e.get("conversation") for e in events if "turn" in e}


def test_settings_are_provisioned_to_a_private_file_and_reloaded(mosquitto: Mosquitto, tmp_path: Path) -> None:
    async def scenario() -> dict[str, Any]:
        async with lan_hub(mosquitto.url, tmp_path) as hub, httpx.AsyncClient(base_url=hub.url) as http:
            headers = bearer((await hub.pair(http))["token"])
            bad = await http.patch("/v1/settings", json={"wake_word": "hey_toaster"}, headers=headers)
            assert bad.status_code == 422 and bad.json()["error"]["code"] == "SETTINGS_UNKNOWN_WAKE_WORD"
            tz = await http.patch("/v1/settings", json={"timezone": "Mars/Olympus"}, headers=headers)
            assert tz.status_code == 422 and tz.json()["error"]["code"] == "SETTINGS_UNKNOWN_TIMEZONE"
            userinfo = await http.patch("/v1/settings", json={"mqtt_url": "mqtt://hub:pw@10.0.0.2"}, headers=headers)
            assert userinfo.status_code == 422  # credentials have their own (write-only) fields
            body = {
                "hub_name": "Kitchen hub",
                "room": 'Ada\'s "Küche" 🍳',
                "language": "de",
                "timezone": "Europe/Berlin",
                "wake_word": "alexa",
                "mqtt_url": "mqtt://10.0.0.2:1883",
                "mqtt_username": "hub",
                "mqtt_password": "s3cret-pw\\\u007f",
                "cloud_url": "https://cloud.example.org",
            }
            done = (await http.patch("/v1/settings", json=body, headers=headers)).json()
            assert "mqtt_url" in done["restart_required"] and "hub_name" not in done["restart_required"]
            assert done["overridden_by_environment"] == []
            assert done["warnings"][0].startswith("speech recognition switches to 'de' with stt-whisper-base")
            os.environ["COMPANION_TIMEZONE"] = "UTC"  # the hub's own environment wins over provisioning
            try:
                pinned = (await http.patch("/v1/settings", json={"timezone": "Asia/Tokyo"}, headers=headers)).json()
            finally:
                del os.environ["COMPANION_TIMEZONE"]
            assert pinned["overridden_by_environment"] == ["timezone"]
            shown = (await http.get("/v1/settings", headers=headers)).json()
            return {"done": done, "shown": shown}

    seen = run(scenario())
    assert seen["shown"]["hub_name"] == "Kitchen hub" and seen["shown"]["mqtt_password_set"] is True
    assert "s3cret-pw" not in json.dumps(seen, ensure_ascii=False)  # secrets are write-only
    path = tmp_path / "config" / "settings.toml"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    env = {"COMPANION_CONFIG_DIR": str(tmp_path / "config"), "COMPANION_LANGUAGE": "en"}
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        loaded = EdgeSettings.load()
    finally:
        for key, value in old.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    assert loaded.hub_name == "Kitchen hub" and loaded.wake_word == "alexa" and loaded.room == 'Ada\'s "Küche" 🍳'
    assert loaded.mqtt_password is not None and loaded.mqtt_password.get_secret_value() == "s3cret-pw\\\u007f"
    assert loaded.language == "en"  # the environment beats the provisioned file


def test_a_slow_event_reader_loses_old_events_not_memory() -> None:
    from edge_runtime.api.events import EventBus

    async def scenario() -> tuple[dict[str, Any], int]:
        bus = EventBus(per_subscriber=10)
        async with bus.subscribe() as sub:
            for i in range(1000):
                bus.publish("device", n=i)
            first = await sub.next()
            return first, sub.queue.qsize()

    first, left = run(scenario())
    assert first["n"] == 990 and first["dropped_before"] == 990 and left == 9


def test_the_hub_is_found_over_mdns_by_another_process() -> None:
    import subprocess
    import sys

    from edge_runtime.api.discovery import Advertiser, lan_addresses

    addresses = lan_addresses()
    assert addresses, "mDNS needs a non-loopback IPv4 interface (ip addr); this machine has none"

    async def scenario() -> list[dict[str, Any]]:
        advertiser = Advertiser("hub-mdns0000test", "Hall hub", 48765, addresses)
        assert await advertiser.start()
        try:
            found = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "cli", "hub", "discover", "--json", "--wait", "2", stdout=subprocess.PIPE
            )
            out, _ = await found.communicate()
            return list(json.loads(out))
        finally:
            await advertiser.stop()

    hubs = [h for h in run(scenario()) if h["hub_id"] == "hub-mdns0000test"]
    assert len(hubs) == 1 and hubs[0]["port"] == 48765 and set(hubs[0]["addresses"]) == set(addresses)
    assert hubs[0]["properties"]["api"] == "/v1" and hubs[0]["name"].startswith("Hall hub")


def test_the_api_serves_https_with_the_hubs_certificate(mosquitto: Mosquitto, tmp_path: Path) -> None:
    from tests.edge_runtime.test_devices_security import _certificates

    ca, cert, key = _certificates(tmp_path / "certs")

    async def scenario() -> tuple[int, str]:
        async with lan_hub(mosquitto.url, tmp_path, api_tls_cert_file=str(cert), api_tls_key_file=str(key)) as hub:
            url = hub.url.replace("http://", "https://")
            async with httpx.AsyncClient(base_url=url, verify=ssl.create_default_context(cafile=str(ca))) as https:
                health = await https.get("/health")
                page = await https.get("/app/")
            async with httpx.AsyncClient(base_url=hub.url) as plain:
                try:
                    await plain.get("/health")
                    plain_refused = "answered"
                except httpx.HTTPError as err:
                    plain_refused = type(err).__name__
            assert page.status_code == 200 and "Companion" in page.text
            return health.status_code, plain_refused

    status, plain = run(scenario())
    assert status == 200 and plain != "answered"


def test_the_pairing_limiter_counts_ipv6_per_64_and_stays_bounded() -> None:
    from edge_runtime.api.auth import AttemptLimiter, _client_key
    from edge_runtime.api.pairing import PairingError

    limiter = AttemptLimiter(limit=3, max_clients=100)
    for n in range(3):  # one host rotating through its /64
        limiter.check(f"2001:db8:1:2::{n + 1:x}")
    try:
        limiter.check("2001:db8:1:2:ffff::9")
        raise AssertionError("a fourth attempt from the same /64 was allowed")
    except PairingError as err:
        assert err.code == "PAIRING_RATE_LIMITED"
    limiter.check("2001:db8:1:3::1")  # the next /64 is someone else
    assert _client_key("::ffff:192.0.2.7") == "192.0.2.7"  # an IPv4 client seen over IPv6 counts as itself
    for n in range(1000):
        limiter.check(f"10.0.{n // 250}.{n % 250}")
    assert len(limiter.seen) == 100  # bounded: the least recently seen are forgotten


def test_history_is_bounded_per_app_so_one_app_cannot_flush_another() -> None:
    import sqlite3

    from edge_runtime.api.history import History

    history = History(sqlite3.connect(":memory:", isolation_level=None), keep=50)
    history.add(source="app:quiet", conversation="quiet:default", text="turn on the hall light", reply="Done.")
    history.add(source="hub", conversation="hub", text="what time is it", reply="Noon.")
    for n in range(400):  # a chatty app
        history.add(source="app:loud", conversation=f"loud:c{n % 3}", text=f"turn {n}", reply="ok")
    assert [t["text"] for t in history.recent(visible_to="quiet")] == ["what time is it", "turn on the hall light"]
    loud = [t for t in history.recent(limit=500, visible_to="loud") if t["source"] == "app:loud"]
    assert 50 <= len(loud) < 150 and loud[0]["text"] == "turn 399"  # its newest, trimmed every 100 turns
