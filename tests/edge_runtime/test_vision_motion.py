"""Cameras on the hub (#20): a real MJPEG stream served by ffmpeg on loopback, read by OpenCV, motion
in a zone -> the hub's event and its Home Assistant binary sensor (real Mosquitto), on then off."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import numpy as np

from device_drivers.mosquitto import Mosquitto
from device_drivers.mqtt_url import BrokerAddress
from edge_runtime.ha_presence import Controls, HaPresence, HubDevice
from edge_runtime.settings import EdgeSettings
from edge_runtime.vision.camera import Hold
from edge_runtime.vision.config import CameraConfig
from edge_runtime.vision.events import VisionEvent
from edge_runtime.vision.service import VisionService
from models.vision_hub import MotionDetector
from tests.edge_runtime.ha_subscriber import HaSubscriber
from tests.edge_runtime.vision_stream import MjpegServer

HUB_ID = "hub-vision-0001"
LEFT, RIGHT = [0.0, 0.0, 0.5, 1.0], [0.5, 0.0, 0.5, 1.0]


def _presence(broker: Mosquitto, tmp_path: Path) -> HaPresence:
    settings = EdgeSettings(config_dir=tmp_path / "c", data_dir=tmp_path / "d", _env_file=None)
    device = HubDevice(HUB_ID, "Hall hub", "Hall", "0.1.0", ("hey_jarvis",))
    return HaPresence(BrokerAddress.parse(broker.url), device, Controls(settings, None, None), client_id="hub-presence")


def _changes(values: list[str]) -> list[str]:
    """The states in order, each repeat (a re-announce) dropped."""
    return [v for i, v in enumerate(values) if i == 0 or values[i - 1] != v]


async def _until(check: object, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():  # type: ignore[operator]
            return True
        await asyncio.sleep(0.05)
    return False


def test_motion_in_a_zone_raises_an_event_and_the_ha_sensor_turns_on_then_off(
    mosquitto: Mosquitto, tmp_path: Path
) -> None:
    ha = HaSubscriber(mosquitto.url)
    events: list[tuple[float, VisionEvent]] = []
    hold_s = 1.0
    garage = CameraConfig("garage", "", room="garage", zones=[LEFT], hold_s=hold_s)
    yard = CameraConfig("yard", "", zones=[RIGHT], hold_s=hold_s)  # the same scene, watching the still half
    with MjpegServer() as left_stream, MjpegServer() as other_stream:
        garage.source, yard.source = left_stream.url, other_stream.url

        async def scenario() -> None:
            presence = await _presence(mosquitto, tmp_path).start()
            service = VisionService(
                [garage, yard], presence=presence, on_event=lambda e: events.append((time.monotonic(), e))
            )
            async with service:
                sensor = f"companion/{HUB_ID}/camera_garage_motion"
                assert await _until(lambda: "OFF" in ha.values.get(sensor, []), 15), "no sensor state"
                assert await _until(lambda: "ON" in ha.values.get(sensor, []), 20), "no motion seen"
                assert await _until(lambda: ha.values[sensor][-1] == "OFF", 10), "motion never cleared"
            await presence.stop()

        asyncio.run(scenario())
    ha.close()
    config = ha.entity("camera_garage_motion")
    assert config["_component"] == "binary_sensor" and config["device_class"] == "motion"
    assert config["device"]["identifiers"] == ["companion_hub_vision_0001"]
    assert ha.entity("camera_yard_motion")["state_topic"] == f"companion/{HUB_ID}/camera_yard_motion"
    garage_events = [(t, e) for t, e in events if e.camera == "garage" and e.kind.startswith("motion")]
    kinds = [e.kind for _, e in garage_events]
    assert kinds[:2] == ["motion", "motion_cleared"], kinds
    assert garage_events[0][1].text == "Motion in the garage."
    # the box moves for 3 s; the sensor stays on through it and for the hold time after
    on_for = garage_events[1][0] - garage_events[0][0]
    assert 2.5 + hold_s <= on_for <= 3.0 + hold_s + 1.5, on_for
    assert not [e for _, e in events if e.camera == "yard" and e.kind == "motion"], "motion outside the zone"
    # offline until its first frame, then online
    assert _changes(ha.values[f"companion/{HUB_ID}/camera_garage/availability"])[:2] == ["offline", "online"]


def test_a_camera_that_stops_is_unavailable_and_comes_back(mosquitto: Mosquitto, tmp_path: Path) -> None:
    ha = HaSubscriber(mosquitto.url)
    stream = MjpegServer().start()
    camera = CameraConfig("porch", stream.url, motion=False)
    available = f"companion/{HUB_ID}/camera_porch/availability"
    try:

        async def scenario() -> tuple[int, str]:
            presence = await _presence(mosquitto, tmp_path).start()
            async with VisionService([camera], presence=presence, backoff_s=(0.2, 1.0)) as service:
                porch = service.cameras["porch"]
                assert await _until(lambda: ha.values.get(available, [""])[-1] == "online", 15)
                stream.stop()
                assert await _until(lambda: ha.values[available][-1] == "offline", 10), "still shown available"
                assert porch.state == "unavailable" and porch.latest() is not None
                stream.start()
                assert await _until(lambda: ha.values[available][-1] == "online", 15), "never came back"
                reconnects, state = porch.reconnects, porch.state
            await presence.stop()
            return reconnects, state

        reconnects, state = asyncio.run(scenario())
    finally:
        stream.stop()
        ha.close()
    assert state == "online" and reconnects >= 1
    assert _changes(ha.values[available]) == ["offline", "online", "offline", "online"]


def test_motion_counts_only_inside_the_zones_and_sensitivity_sets_how_much() -> None:
    rng = np.random.default_rng(7)
    background = rng.integers(60, 90, (480, 640, 3), dtype=np.uint8)

    def frames(box_x: int) -> list[np.ndarray]:
        still = [background.copy() for _ in range(8)]
        moved = background.copy()
        moved[200:320, box_x : box_x + 120] = 255  # 4.7 % of the frame
        return [*still, moved]

    def last_score(zones: list[tuple[float, float, float, float]], box_x: int, sensitivity: float = 0.5) -> bool:
        detector = MotionDetector(zones, sensitivity=sensitivity)
        return [detector.moving(f) for f in frames(box_x)][-1]

    left: list[tuple[float, float, float, float]] = [(0.0, 0.0, 0.5, 1.0)]
    assert last_score(left, 40) is True
    assert last_score(left, 480) is False  # the box is in the right half
    assert last_score([], 480) is True  # no zone: the whole frame
    # a 20x20 box is 0.13 % of the frame: only a sensitive camera reports it
    small = background.copy()
    small[100:120, 100:120] = 255
    for sensitivity, expected in ((0.5, False), (1.0, True)):
        detector = MotionDetector([], sensitivity=sensitivity)
        assert [detector.moving(f) for f in [*[background] * 8, small]][-1] is expected


def test_hold_keeps_motion_on_until_the_hold_time_has_passed_without_motion() -> None:
    hold = Hold(2.0)
    assert hold.update(True, 0.0) == "motion"
    assert hold.update(False, 1.9) is None and hold.on
    assert hold.update(True, 1.95) is None
    assert hold.update(False, 3.9) is None
    assert hold.update(False, 3.95) == "motion_cleared" and not hold.on
