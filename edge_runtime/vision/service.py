"""The hub's cameras together: their threads, their events on the hub's loop, their sensors in
Home Assistant, and (when linked and asked for) text notifications through the cloud.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from edge_runtime.vision.camera import Camera
from edge_runtime.vision.config import CameraConfig, slug
from edge_runtime.vision.events import MOTION, PERSON, VisionEvent, notification
from edge_runtime.vision.ha import CameraEntities
from edge_runtime.vision.snapshots import SnapshotStore
from edge_runtime.vision.sources import FrameSource
from models.vision_hub import FindsPeople, PeopleDetector

if TYPE_CHECKING:
    from edge_runtime.ha_presence import HaPresence

log = logging.getLogger(__name__)
Notify = Callable[[dict[str, Any]], Awaitable[None]]
NOTIFIED = (MOTION, PERSON)
KEPT = (MOTION, PERSON)  # the events whose frame is kept on the hub (a camera's `snapshots`)
GONE_KEPT = 20  # cameras that went away (an app's video), still shown unavailable in Home Assistant


class VisionService:
    def __init__(
        self,
        configs: list[CameraConfig],
        *,
        presence: HaPresence | None = None,
        on_event: Callable[[VisionEvent], None] | None = None,
        notify: Notify | None = None,
        snapshots: SnapshotStore | None = None,
        backoff_s: tuple[float, float] = (0.5, 30.0),
        people: Callable[[], FindsPeople] = PeopleDetector,
    ) -> None:
        """`people` makes each people detector, the cameras' and the voice skill's (vision/detectors.py)."""
        self.people = people
        self.cameras = {c.slug: Camera(c, self._from_thread, backoff_s=backoff_s, people=people) for c in configs}
        self.presence, self.on_event, self.notify = presence, on_event, notify
        self.snapshots = snapshots
        self.gone: dict[str, Camera] = {}
        self.recent: deque[VisionEvent] = deque(maxlen=200)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> VisionService:
        self._loop = asyncio.get_running_loop()
        if self.snapshots is not None:  # the retention limit, before any camera adds to them
            await asyncio.to_thread(self.snapshots.prune_all)
        if self.presence is not None:
            self.presence.add_source(CameraEntities(lambda: self.cameras.values(), lambda: self.gone.values()))
        for camera in self.cameras.values():
            camera.start()
        return self

    async def stop(self) -> None:
        await asyncio.gather(*(asyncio.to_thread(c.stop) for c in self.cameras.values()))
        for task in list(self._tasks):
            task.cancel()
        self._loop = None

    # --- cameras that come and go while the hub runs (an app's WebRTC video: vision/track.py)

    def add(self, config: CameraConfig, source: Callable[..., FrameSource]) -> Camera:
        """Start a camera on `source` now, under a free name ("phone camera 2" if the first is taken)."""
        name, n = config.name, 1
        while slug(name) in self.cameras:
            n += 1
            name = f"{config.name} {n}"
        camera = Camera(
            replace(config, name=name), self._from_thread, backoff_s=(0.2, 1.0), source=source, people=self.people
        )
        self.cameras = {**self.cameras, camera.config.slug: camera}  # a new dict: other threads iterate the old
        self.gone.pop(camera.config.slug, None)
        camera.start()
        if self.presence is not None:
            self.presence.announce()
        return camera

    async def remove(self, camera: Camera) -> None:
        """Stop a camera `add` started and forget it: gone from `status()`, unavailable in Home Assistant."""
        if self.cameras.get(camera.config.slug) is not camera:
            return
        self.cameras = {k: c for k, c in self.cameras.items() if c is not camera}
        await asyncio.to_thread(camera.stop)
        camera.went_away()
        self.gone[camera.config.slug] = camera
        while len(self.gone) > GONE_KEPT:
            self.gone.pop(next(iter(self.gone)))
        if self.presence is not None:
            self.presence.refresh()

    async def __aenter__(self) -> VisionService:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # --- finding a camera by what a speaker calls it

    def at(self, place: str) -> Camera | None:
        """ "front door", "the garage": a camera's name or its room."""
        wanted = slug(place.removeprefix("the "))
        for camera in self.cameras.values():
            names = {camera.config.slug, slug(camera.config.name.removesuffix(" camera"))}
            if wanted in names or wanted.removesuffix("_camera") in names:
                return camera
        for camera in self.cameras.values():
            if camera.config.room and slug(camera.config.room) == wanted:
                return camera
        return None

    def in_room(self, room: str | None) -> Camera | None:
        if not room:
            return None
        return next((c for c in self.cameras.values() if c.config.room and slug(c.config.room) == slug(room)), None)

    # --- events: a camera's thread -> the loop

    def _from_thread(self, ev: VisionEvent) -> None:
        if self.snapshots is not None and ev.kind in KEPT:
            self._keep(ev)
        loop = self._loop
        if loop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop closed between the check and the call
                loop.call_soon_threadsafe(self._deliver, ev)

    def _deliver(self, ev: VisionEvent) -> None:
        self.recent.append(ev)
        log.info("vision.event", extra={"kind": ev.kind, "camera": ev.camera})
        if self.presence is not None:
            self.presence.refresh()
        if self.on_event is not None:
            self.on_event(ev)
        if self.notify is not None and ev.kind in NOTIFIED:
            camera = self.cameras.get(slug(ev.camera)) or self.gone.get(slug(ev.camera))
            if camera is None:
                return
            snapshot = _jpeg(camera) if camera.config.snapshot_to_cloud else None
            task = asyncio.ensure_future(self._send(notification(ev, camera.config, snapshot)))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    def _keep(self, ev: VisionEvent) -> None:
        """The event's frame, kept on the hub (on the camera's thread, which has it at hand)."""
        camera = self.cameras.get(slug(ev.camera))
        if self.snapshots is None or camera is None or not camera.config.snapshots:
            return
        if (jpeg := _jpeg(camera)) is None:
            return
        try:
            self.snapshots.write(camera.config.slug, jpeg, ev.kind, at=ev.at)
        except OSError as err:  # a full or read-only disk must not stop the camera
            log.warning("vision.snapshot_failed", extra={"camera": ev.camera, "error": str(err)})

    async def _send(self, body: dict[str, Any]) -> None:
        assert self.notify is not None
        try:
            await self.notify(body)
        except Exception as err:  # the cloud being away must never stop the cameras
            log.warning("vision.notify_failed", extra={"error": str(err)})

    def status(self) -> list[dict[str, Any]]:
        """Each camera's state, for the CLI and the LAN API (no pixels)."""
        last = {slug(e.camera): e for e in self.recent}
        return [
            {
                "name": c.config.name,
                "room": c.config.room,
                "state": c.state,
                "motion": c.motion_on,
                "frames": c.frames,
                "reconnects": c.reconnects,
                "error": c.error,
                "last_event": last[k].to_dict() if k in last else None,
                "snapshots": len(self.snapshots.kept(k)) if self.snapshots is not None else 0,
            }
            for k, c in self.cameras.items()
        ]


def _jpeg(camera: Camera) -> bytes | None:
    frame = camera.latest()
    if frame is None:
        return None
    from models.vision_hub import cv2_module

    ok, data = cv2_module().imencode(".jpg", frame, [cv2_module().IMWRITE_JPEG_QUALITY, 80])
    return bytes(data) if ok else None
