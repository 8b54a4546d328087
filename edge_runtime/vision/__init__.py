"""Vision on the hub (#20): cameras as sources, motion with zones, people, enrolled faces, QR codes and text,
answered by voice and shown in Home Assistant, with no frame leaving the hub by default.
See docs/VISION.md.

    vision = await start_vision(settings, presence=presence, registry=registry)
    vision.attach(brain)        # each Brain the hub builds: the vision route after the built-in skills
    ...
    await vision.stop()
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from edge_runtime.vision.config import CameraConfig, load, load_retention
from edge_runtime.vision.detectors import PeopleDetectors
from edge_runtime.vision.events import VisionEvent, notification
from edge_runtime.vision.known_faces import KnownFaces
from edge_runtime.vision.service import Notify, VisionService
from edge_runtime.vision.shared_faces import SharedFaces
from edge_runtime.vision.skill import VisionSkill
from edge_runtime.vision.snapshots import SnapshotStore
from edge_runtime.vision.track import VideoCamera, app_camera
from edge_runtime.vision.who import WhoIsThere
from models.faces import FaceRecognizer
from models.vision import Ocr

if TYPE_CHECKING:
    from edge_runtime.brain.router import Brain
    from edge_runtime.ha_presence import HaPresence
    from edge_runtime.settings import EdgeSettings
    from models.registry import Registry
    from sync import Replica


@dataclass
class Vision:
    service: VisionService
    skill: VisionSkill

    def attach(self, brain: Brain) -> None:
        """Put the vision route into a brain's routes, right after the built-in skills (once)."""
        from edge_runtime.vision.route import routes_with_vision

        if not any(getattr(r, "__name__", "") == "vision" for r in brain.routes):
            brain.routes = routes_with_vision(self.skill, brain.routes)

    def app_camera(self, name: str | None, room: str | None) -> VideoCamera:
        """What a WebRTC session runs with the app's video track: a camera while the track lives."""
        return app_camera(self.service, name=name, room=room)

    async def stop(self) -> None:
        await self.service.stop()


async def start_vision(
    settings: EdgeSettings,
    *,
    presence: HaPresence | None = None,
    on_event: Callable[[VisionEvent], None] | None = None,
    notify: Notify | None = None,
    registry: Registry | None = None,
    cameras: list[CameraConfig] | None = None,
    replica: Replica | None = None,
) -> Vision:
    """The cameras of <config_dir>/cameras.toml, started; with none, the skill still declines clearly.

    `presence` adds a motion binary sensor per camera to the hub's Home Assistant device; `on_event`
    gets every VisionEvent on the loop (for the hub's event stream); `notify` (edge_runtime.vision.
    notify.cloud_notifier, when linked) gets the text-only notification of motion and people. Each
    motion and person event keeps a JPEG under <data_dir>/snapshots, within the retention limit.
    `replica` (the hub's synced document) shares the enrolled faces if `faces_sync` allows it, and
    withdraws this hub's from it if not (edge_runtime/vision/shared_faces.py).
    """
    configs = load(settings.config_dir) if cameras is None else cameras
    snapshots = SnapshotStore.for_cameras(settings.data_dir, load_retention(settings.config_dir), configs)
    people = PeopleDetectors(settings.people_detector, registry)
    service = VisionService(
        configs, presence=presence, on_event=on_event, notify=notify, snapshots=snapshots, people=people
    )
    await service.start()

    def ocr() -> Ocr:
        from models.registry import Registry

        return Ocr(registry or Registry())

    def recognizer() -> FaceRecognizer:
        from models.registry import Registry

        return FaceRecognizer(registry or Registry())

    known = KnownFaces.in_dir(settings.data_dir)
    shared = SharedFaces.start(known, replica, enabled=settings.faces_sync) if replica is not None else None
    who = WhoIsThere(known, recognizer, threshold=settings.faces_match_distance, shared=shared)
    skill = VisionSkill(service, here=settings.room, ocr=ocr, who=who)
    return Vision(service, skill)


__all__ = ["CameraConfig", "Vision", "VisionEvent", "VisionService", "VisionSkill", "notification", "start_vision"]
