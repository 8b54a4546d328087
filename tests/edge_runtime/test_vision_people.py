"""A person walks into a camera's view (#20): a real photo stepping into a real MJPEG stream (ffmpeg on
loopback) -> motion, then "A person at the front door." on the hub, and the camera's occupancy binary
sensor in Home Assistant (real Mosquitto) on, then off after the hold time once they have gone."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import cv2

from device_drivers.mosquitto import Mosquitto
from device_drivers.mqtt_url import BrokerAddress
from edge_runtime.ha_presence import Controls, HaPresence, HubDevice
from edge_runtime.settings import EdgeSettings
from edge_runtime.vision.config import CameraConfig
from edge_runtime.vision.events import VisionEvent
from edge_runtime.vision.service import VisionService
from tests.edge_runtime.ha_subscriber import HaSubscriber
from tests.edge_runtime.vision_images import photo
from tests.edge_runtime.vision_stream import MjpegServer, person_scene

HUB_ID = "hub-vision-0002"


def test_a_person_stepping_in_raises_a_person_event_and_occupancy(mosquitto: Mosquitto, tmp_path: Path) -> None:
    astronaut = tmp_path / "astronaut.png"
    cv2.imwrite(str(astronaut), photo("astronaut"))
    settings = EdgeSettings(config_dir=tmp_path / "c", data_dir=tmp_path / "d", _env_file=None)
    device = HubDevice(HUB_ID, "Hall hub", "Hall", "0.1.0", ("hey_jarvis",))
    ha = HaSubscriber(mosquitto.url)
    events: list[tuple[float, VisionEvent]] = []
    occupancy = f"companion/{HUB_ID}/camera_front_door_occupancy"
    with MjpegServer(inputs=person_scene(astronaut)) as stream:
        door = CameraConfig("front door", stream.url, hold_s=1.0, people=True, people_every_s=5.0)

        async def scenario() -> None:
            presence = HaPresence(
                BrokerAddress.parse(mosquitto.url), device, Controls(settings, None, None), client_id="hub-presence"
            )
            await presence.start()
            async with VisionService(
                [door], presence=presence, on_event=lambda e: events.append((time.monotonic(), e))
            ):
                deadline = time.monotonic() + 30
                while not ("ON" in ha.values.get(occupancy, []) and ha.values[occupancy][-1] == "OFF"):
                    assert time.monotonic() < deadline, ha.values.get(occupancy)
                    await asyncio.sleep(0.1)
            await presence.stop()

        asyncio.run(scenario())
    ha.close()
    assert ha.entity("camera_front_door_occupancy")["device_class"] == "occupancy"
    kinds = [e.kind for _, e in events if e.kind not in ("available",)]
    first = kinds.index("person")
    assert kinds[first - 1] == "motion" and "person_cleared" in kinds[first:], kinds
    seen = next(e for _, e in events if e.kind == "person")
    assert (seen.text, seen.people) == ("A person at the front door.", 1)
    at = {kind: next(t for t, e in events if e.kind == kind) for kind in ("motion", "person")}
    # people are looked for at every analysed frame while there is motion, not every 5 s
    assert at["person"] - at["motion"] < 1.5, at
