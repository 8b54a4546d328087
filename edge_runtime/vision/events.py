"""What the cameras tell the hub: typed events whose payload is text, never pixels.

`notification` is the one shape an event takes on its way to the cloud: a title and a body, and a
snapshot only where the user turned `snapshot_to_cloud` on for that camera.
"""

from __future__ import annotations

import base64
import time
from dataclasses import asdict, dataclass, field
from typing import Any

from edge_runtime.vision.config import CameraConfig

MOTION, CLEARED, UNAVAILABLE, AVAILABLE = "motion", "motion_cleared", "unavailable", "available"
PERSON, NO_PERSON = "person", "person_cleared"


@dataclass(frozen=True)
class VisionEvent:
    kind: str  # one of the constants above
    camera: str
    room: str | None
    text: str  # "Motion in the garage."
    people: int | None = None  # on "person": how many were seen
    at: float = field(default_factory=time.time)
    type: str = "vision"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def event(kind: str, camera: CameraConfig, *, people: int | None = None) -> VisionEvent:
    place = camera.place
    someone = f"{people} people" if people and people > 1 else "A person"
    text = {
        MOTION: f"Motion {place}.",
        CLEARED: f"No more motion {place}.",
        UNAVAILABLE: f"The {camera.name} camera is unavailable.",
        AVAILABLE: f"The {camera.name} camera is back.",
        PERSON: f"{someone} {place}.",
        NO_PERSON: f"No one {place} any more.",
    }[kind]
    return VisionEvent(kind, camera.name, camera.room, text, people)


def notification(ev: VisionEvent, camera: CameraConfig, snapshot_jpeg: bytes | None = None) -> dict[str, Any]:
    """The body of POST /v1/notify for an event. Text only, unless the camera allows a snapshot."""
    body: dict[str, Any] = {
        "topic": f"camera.{ev.kind}",
        "title": ev.text,
        "body": "",
        "data": {"camera": ev.camera, "room": ev.room, "kind": ev.kind, "at": round(ev.at, 3)},
    }
    if ev.people is not None:
        body["data"]["people"] = ev.people
    if camera.snapshot_to_cloud and snapshot_jpeg is not None:
        body["data"]["snapshot_jpeg_b64"] = base64.b64encode(snapshot_jpeg).decode()
    return body
