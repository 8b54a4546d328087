"""The cameras in Home Assistant: one motion binary sensor per camera, under the hub's own device,
published by the hub's presence connection (edge_runtime/ha_presence) on topics the hub owns.

Each sensor is available only while both the hub and its camera are (`availability_mode: all`).
A camera that went away (an app's video, its session closed) stays there, unavailable, with its sensors off.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from edge_runtime.ha_presence.entities import OFFLINE, ONLINE, HubDevice, entity
from edge_runtime.vision.camera import Camera


def motion_id(camera: Camera) -> str:
    return f"camera_{camera.config.slug}_motion"


def occupancy_id(camera: Camera) -> str:
    return f"camera_{camera.config.slug}_occupancy"


def availability_name(camera: Camera) -> str:
    return f"camera_{camera.config.slug}/availability"


class CameraEntities:
    """An `EntitySource` for HaPresence.add_source: configs and states of the cameras' sensors."""

    def __init__(
        self, cameras: Callable[[], Iterable[Camera]], gone: Callable[[], Iterable[Camera]] = lambda: ()
    ) -> None:
        self.cameras, self.gone = cameras, gone

    def discovery(self, hub: HubDevice) -> list[tuple[str, dict[str, Any]]]:
        configs = []
        for camera in self.cameras():
            kinds = [(motion_id(camera), "motion", "motion", "mdi:motion-sensor")]
            if camera.config.people:
                kinds.append((occupancy_id(camera), "occupancy", "person", "mdi:account-eye"))
            for oid, device_class, what, icon in kinds:
                name = f"{camera.config.name.capitalize()} {what}"
                config = entity(
                    hub, oid, name, device_class=device_class, payload_on="ON", payload_off="OFF", icon=icon
                )
                del config["availability_topic"]
                config["availability"] = [{"topic": hub.availability}, {"topic": hub.topic(availability_name(camera))}]
                config["availability_mode"] = "all"
                configs.append((f"{hub.prefix}/binary_sensor/{hub.node_id}/{oid}/config", config))
        return configs

    def messages(self) -> dict[str, str]:
        states: dict[str, str] = {}
        for camera in [*self.gone(), *self.cameras()]:  # a name back in use: the live camera's states win
            states[motion_id(camera)] = "ON" if camera.motion_on else "OFF"
            if camera.config.people:
                states[occupancy_id(camera)] = "ON" if camera.people_hold.on else "OFF"
            states[availability_name(camera)] = ONLINE if camera.state == "online" else OFFLINE
        return states
