"""A discovery fuzzer: hypothesis writes the JSON shapes of each convention (Home Assistant configs, Zigbee2MQTT
`bridge/devices` and state, Homie descriptions and values), with wrong types, odd topics and numbers that are
not, onto a real broker. After every example: nothing unforeseen was raised, the hub published only on the
commanded device's own valid command topics, and a known device still commands and confirms.

Bounded for CI: 100 examples per convention (about 20 s in all), no deadline, no example database."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings

from device_drivers.mosquitto import Mosquitto
from tests.security.fuzz_hub import FuzzHub
from tests.security.fuzz_shapes import ha_messages, homie_messages, z2m_messages

FUZZ = settings(
    max_examples=100, deadline=None, database=None, derandomize=False, suppress_health_check=list(HealthCheck)
)


def _round(fuzz: FuzzHub, messages: list[tuple[str, bytes]]) -> None:
    """Discovery, then state on every topic the announced devices got, then a command to each of them."""
    fuzz.begin()
    fuzz.send(messages)
    records = fuzz.hub.registry.records
    announced = {i for t, _ in messages for i in fuzz.hub.registry.claims.announced_by(t)}
    fresh = [records[i] for i in sorted(announced) if i in records]
    states = [(t, p) for rec in fresh for t in rec.device.wiring["state"] for p in (b"inf", b'{"state": NaN}', b"ON")]
    fuzz.send(states)
    for rec in fresh[:6]:
        allowed = fuzz.hub.by_convention[rec.device.convention].command_topics(rec.device)
        published = fuzz.command(rec.id)
        assert set(published) <= allowed, (rec.id, published, allowed)
    fuzz.assert_healthy()
    # Withdrawn again (what an empty config or `$description` does), so each example starts afresh.
    fuzz.send([(t, b"") for t, _ in messages if t.endswith(("/config", "/$description"))])
    fuzz.assert_unsubscribed()


def test_fuzz_home_assistant_discovery(mosquitto: Mosquitto, tmp_path: Path) -> None:
    with FuzzHub(mosquitto, tmp_path) as fuzz:

        @FUZZ
        @given(ha_messages())
        def check(messages: list[tuple[str, bytes]]) -> None:
            _round(fuzz, messages)

        check()


def test_fuzz_zigbee2mqtt_bridge_and_state(mosquitto: Mosquitto, tmp_path: Path) -> None:
    with FuzzHub(mosquitto, tmp_path) as fuzz:

        @FUZZ
        @given(z2m_messages())
        def check(messages: list[tuple[str, bytes]]) -> None:
            _round(fuzz, messages)

        check()


def test_fuzz_homie_descriptions_and_values(mosquitto: Mosquitto, tmp_path: Path) -> None:
    with FuzzHub(mosquitto, tmp_path) as fuzz:

        @FUZZ
        @given(homie_messages())
        def check(messages: list[tuple[str, bytes]]) -> None:
            _round(fuzz, messages)

        check()
