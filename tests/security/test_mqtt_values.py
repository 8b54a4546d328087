"""Values: nothing non-finite reaches a device or the state cache; a bad value, payload or discovery field is a
coded, rate-limited log line or a coded 4xx, never a traceback per message and never a 500."""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from device_drivers import Attribute, Convention, Device, InvalidCommand, Kind
from device_drivers.mosquitto import Mosquitto
from device_drivers.simulator import Simulator, device_from
from edge_runtime.api import HubContext
from edge_runtime.api.app import create_api
from edge_runtime.devices import DeviceHub
from edge_runtime.devices.store import DeviceStore
from edge_runtime.settings import EdgeSettings
from tests.security.mqtt_attack import publish

DEVICES = [
    {"id": "lamp", "name": "Lamp", "kind": "light", "convention": "ha"},
    {"id": "thermo", "name": "Thermostat", "kind": "climate", "convention": "ha"},
    {"id": "jlamp", "name": "Json Lamp", "kind": "light", "convention": "ha", "schema": "json"},
]
NOT_FINITE = ["inf", "-inf", "nan", "NaN", "Infinity", float("inf"), float("nan"), 10**400, "1e999"]


@pytest.mark.parametrize("value", NOT_FINITE, ids=lambda v: repr(v)[:12])
def test_attribute_validate_refuses_non_finite_numbers(value: Any) -> None:
    for attr in (
        Attribute("brightness", "int", min=0, max=100),
        Attribute("t", "float", min=5, max=35),
        Attribute("t", "float"),
        Attribute("rgb", "rgb"),
    ):
        with pytest.raises(InvalidCommand) as exc:
            attr.validate([value, 0, 0] if attr.type == "rgb" else value)
        assert exc.value.code == "DEVICE_INVALID_COMMAND"


@asynccontextmanager
async def api(broker: Mosquitto, tmp_path: Path) -> AsyncIterator[tuple[httpx.AsyncClient, DeviceHub, Simulator]]:
    settings = EdgeSettings(config_dir=tmp_path / "config", data_dir=tmp_path / "data", api_port=0, api_mdns=False)
    with Simulator(broker.url, [device_from(d) for d in DEVICES]) as sim:
        hub = await DeviceHub(broker.url, settings.devices_db).start()
        await hub.settle(quiet_s=0.3)
        context = HubContext.open(settings, "hub-values000000000", devices=hub)
        transport = httpx.ASGITransport(app=create_api(context))
        async with httpx.AsyncClient(transport=transport, base_url="http://hub") as http:
            code = context.pairing.current_code()[0]
            token = (await http.post("/v1/pairing", json={"code": code, "name": "t"})).json()["token"]
            http.headers["Authorization"] = f"Bearer {token}"
            try:
                yield http, hub, sim
            finally:
                await context.close()
                await hub.stop()


def test_non_finite_bodies_get_a_coded_422_and_reach_no_device(mosquitto: Mosquitto, tmp_path: Path) -> None:
    async def scenario() -> None:
        async with api(mosquitto, tmp_path) as (http, _, sim):
            bodies = [
                b'{"brightness": "inf"}',
                b'{"brightness": 1e999}',
                b'{"brightness": -1e999}',
                b'{"brightness": NaN}',
                b'{"rgb": [1e999, 0, 0]}',
                b'{"brightness": ' + b"9" * 400 + b"}",
                b'{"brightness": ' + b"[" * 500 + b"]" * 500 + b"}",
            ]
            for body in bodies:
                answer = await http.post("/v1/devices/Lamp", content=body, headers={"content-type": "application/json"})
                assert 400 <= answer.status_code < 500 and answer.json()["error"]["code"], (body[:40], answer.text)
            for value in ("nan", "inf", float("-inf")):
                answer = await http.post(
                    "/v1/devices/Thermostat",
                    content=_json({"target_temperature": value}),
                    headers={"content-type": "application/json"},
                )
                assert answer.status_code == 422, answer.text
                assert answer.json()["error"]["code"] == "DEVICE_INVALID_COMMAND"
            assert all(not d.received for d in sim.devices.values())  # nothing was sent
            ok = await http.post("/v1/devices/Thermostat", json={"target_temperature": 21.5})
            assert ok.status_code == 200, ok.text

    asyncio.run(scenario())


def _json(data: dict[str, Any]) -> bytes:
    import json

    return json.dumps(data).encode()  # NaN and Infinity as Python writes them


def test_non_finite_state_is_refused_and_logged_once_not_per_message(
    mosquitto: Mosquitto, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)

    async def scenario() -> None:
        async with api(mosquitto, tmp_path) as (http, hub, _):
            bad = [b"inf", b"1e999", b"-inf", b"nan", b"9" * 400]
            publish(mosquitto, [("sim/lamp/brightness", bad[n % len(bad)]) for n in range(1000)], retain=False)
            publish(
                mosquitto,
                [
                    ("sim/thermo/target", b"nan"),
                    ("sim/jlamp/state", b'{"brightness": 1e999}'),
                    ("sim/jlamp/state", b'{"state": ' + b"[" * 5000 + b"]" * 5000 + b"}"),
                ],
                retain=False,
            )
            await asyncio.sleep(1.0)
            assert hub.bad_payloads >= 1000
            for rec in hub.registry.records.values():
                assert all(not isinstance(v, float) or math.isfinite(v) for v in rec.state.values()), rec.state
            listed = await http.get("/v1/devices")
            assert listed.status_code == 200
            done = await http.post("/v1/devices/Lamp", json={"brightness": 30})
            assert done.status_code == 200, done.text

    asyncio.run(scenario())
    assert not [r for r in caplog.records if r.exc_info], "a traceback was logged"
    noisy = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert 1 <= len(noisy) <= 30, len(noisy)  # rate-limited, not one line per message
    assert all(getattr(r, "code", None) for r in noisy)


def _nested(depth: int) -> Any:
    value: Any = "x"
    for _ in range(depth):
        value = [value]
    return value


UNPARSABLE = {
    "light/scale": {"cmd_t": "u1/set", "bri_cmd_t": "u1/b/set", "bri_scl": "abc"},
    "light/zero": {"cmd_t": "u2/set", "bri_cmd_t": "u2/b/set", "bri_stat_t": "u2/b", "bri_scl": 0},
    "light/huge": {"cmd_t": "u3/set", "bri_cmd_t": "u3/b/set", "bri_scl": 1e999},
    "climate/min": {"temp_cmd_t": "u4/set", "min_temp": "x"},
    "climate/nan": {"temp_cmd_t": "u5/set", "min_temp": "NaN", "max_temp": 30},
    "climate/modes": {"mode_cmd_t": "u6/set", "modes": 5},
    "switch/avail": {"cmd_t": "u7/set", "availability": [1, "x", None]},
    "switch/dev": {"cmd_t": "u8/set", "device": "a string"},
    "switch/tpl": {"cmd_t": "u9/set", "stat_t": "u9/st", "val_tpl": 5},
    "switch/tilde": {"~": 5, "cmd_t": "~/set"},
    "switch/topic": {"cmd_t": {"a": 1}},
    "switch/hash": {"name": "Hash Plug", "cmd_t": "#", "stat_t": "hash/state"},
    "switch/deep": {"cmd_t": "u10/set", "name": "x", "dev": {"name": _nested(60)}},
}


def test_unparsable_discovery_fields_are_refused_with_a_code(
    mosquitto: Mosquitto, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)

    async def scenario() -> None:
        async with api(mosquitto, tmp_path) as (http, hub, _):
            deep = b'{"name": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
            messages: list[tuple[str, Any]] = [
                (f"homeassistant/{k}/config", {"name": k, **c}) for k, c in UNPARSABLE.items()
            ]
            messages += [
                ("homeassistant/switch/deepest/config", deep),
                ("zigbee2mqtt/bridge/devices", [{"x": 1}]),
                ("homie/5/odd/$description", {"homie": "5.0", "nodes": {"n": 5, "m": {"properties": 3}}}),
            ]
            publish(mosquitto, messages)
            await hub.settle(quiet_s=0.3)
            assert set(hub.registry.records) == {"ha:lamp", "ha:thermo", "ha:jlamp"}
            # Scales of zero and floats of NaN never make it into a device that later divides by them.
            hashed = await http.post("/v1/devices/Hash Plug", json={"on": True})  # command_topic "#": no 500
            assert hashed.status_code == 404 and hashed.json()["error"]["code"] == "DEVICE_UNKNOWN"
            done = await http.post("/v1/devices/Lamp", json={"on": True})
            assert done.status_code == 200, done.text

    asyncio.run(scenario())
    assert not [r for r in caplog.records if r.exc_info], "a traceback was logged"
    coded = {getattr(r, "code", None) for r in caplog.records if r.levelno >= logging.WARNING}
    assert coded and None not in coded, coded


def test_a_stored_device_with_a_wildcard_topic_is_not_loaded(mosquitto: Mosquitto, tmp_path: Path) -> None:
    """A registry written before topics were checked: its bad devices are refused at load, not subscribed."""
    db = tmp_path / "d.sqlite3"
    store = DeviceStore(db)
    wiring = {
        "state": {"#": [["on", {"f": "onoff", "on": "ON", "off": "OFF"}, None]]},
        "cmd": {"on": ["#", {"f": "onoff", "on": "ON", "off": "OFF"}, None]},
        "avail": [],
    }
    old = Device(
        "ha:old", Convention.HOME_ASSISTANT, Kind.SWITCH, "Old Plug", {"on": Attribute("on", "bool")}, wiring=wiring
    )
    store.save_many([(old.id, old.to_dict(), None)])
    store.save_states([(old.id, True, {"on": True, "level": float("nan")})])
    store.close()

    async def scenario() -> None:
        hub = await DeviceHub(mosquitto.url, db).start()
        await hub.settle(quiet_s=0.3)
        assert "#" not in hub.link._control.filters | hub.link._bulk.filters
        assert "ha:old" not in hub.registry.records
        assert [r.code for r in hub.registry.refusals.values()] == ["DEVICE_BAD_TOPIC"]
        await hub.stop()

    asyncio.run(scenario())
