"""A paired app's WebRTC video as a camera (#20), for as long as its session (and track) lives.

The track is consumed on the loop as fast as aiortc decodes it, into one slot that keeps only the
newest frame: a slow detector drops frames here, and aiortc's receive queue never grows. The camera's
thread takes the newest frame at the camera's fps, converts it to BGR (downscaled to fit 1920x1080),
and runs the same detectors as any camera. No frame leaves the hub: the camera's config has the
defaults of any other (`snapshot_to_cloud` off).

    video = app_camera(vision.service, name="phone camera", room="kitchen")
    await video(track, session_id)      # returns when the track ends; cancel it when the session closes
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any

import numpy as np

from edge_runtime.vision.config import CameraConfig
from edge_runtime.vision.sources import CameraError

if TYPE_CHECKING:
    from edge_runtime.vision.service import VisionService

log = logging.getLogger(__name__)
DEFAULT_NAME = "phone camera"
MAX_SIZE = (1920, 1080)  # a bigger frame is downscaled to fit (either way round)
STALE_S = 5.0  # no frame for this long: the camera is unavailable until frames come back
SOURCE_PREFIX = "webrtc:"

VideoCamera = Callable[[Any, str], Coroutine[Any, Any, None]]


class TrackFeed:
    """The newest frame off a track, from the loop to the camera's thread: one slot, never a queue."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._frame: Any = None  # an av.VideoFrame, converted only if the camera takes it
        self.ended = False
        self.received = 0
        self.dropped = 0  # replaced by a newer frame before the camera took them

    def put(self, frame: Any) -> None:
        with self._cond:
            if self._frame is not None:
                self.dropped += 1
            self._frame = frame
            self.received += 1
            self._cond.notify_all()

    def end(self) -> None:
        with self._cond:
            self.ended = True
            self._cond.notify_all()

    def wait_ended(self, timeout_s: float) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: self.ended, timeout_s)

    def take(self, timeout_s: float) -> Any:
        """The newest frame not yet taken, waiting up to `timeout_s`; None if none came or the track ended."""
        with self._cond:
            self._cond.wait_for(lambda: self._frame is not None or self.ended, timeout_s)
            frame, self._frame = self._frame, None
            return None if self.ended else frame


class TrackSource:
    """A FrameSource over a TrackFeed: blocking reads on the camera's thread, paced at `fps`."""

    live = True

    def __init__(self, feed: TrackFeed, *, fps: float, stale_s: float = STALE_S) -> None:
        self.feed, self.period, self.stale_s = feed, 1.0 / fps, stale_s
        self._next = 0.0
        self.downscaled = 0

    def open(self) -> None:
        if self.feed.ended:
            raise CameraError("the app's video has ended")

    def read(self) -> np.ndarray | None:
        wait = self._next - time.monotonic()
        if wait > 0 and self.feed.wait_ended(wait):
            return None
        frame = self.feed.take(self.stale_s)
        if frame is None:
            if self.feed.ended:
                return None
            raise CameraError(f"no frame from the app's video for {self.stale_s:g} s")
        self._next = time.monotonic() + self.period
        if _too_big(frame.width, frame.height):
            self.downscaled += 1
        return to_bgr(frame)

    def close(self) -> None:
        self._next = 0.0


def _too_big(width: int, height: int, limit: tuple[int, int] = MAX_SIZE) -> bool:
    return max(width, height) > limit[0] or min(width, height) > limit[1]


def to_bgr(frame: Any, limit: tuple[int, int] = MAX_SIZE) -> np.ndarray:
    """An av.VideoFrame as a BGR uint8 array, downscaled (aspect kept) to fit `limit` either way round."""
    width, height = frame.width, frame.height
    if not _too_big(width, height, limit):
        return np.asarray(frame.to_ndarray(format="bgr24"))
    scale = min(limit[0] / max(width, height), limit[1] / min(width, height))
    size = {"width": max(2, int(width * scale) & ~1), "height": max(2, int(height * scale) & ~1)}
    return np.asarray(frame.reformat(format="bgr24", **size).to_ndarray())


def app_camera(
    service: VisionService, *, name: str | None = None, room: str | None = None, stale_s: float = STALE_S
) -> VideoCamera:
    """What a WebRTC session runs with its video track: the track as a camera until it ends."""

    async def run(track: Any, session_id: str) -> None:
        config = CameraConfig(name=name or DEFAULT_NAME, source=f"{SOURCE_PREFIX}{session_id}", room=room)
        await watch_track(service, track, config, stale_s=stale_s)

    return run


async def watch_track(service: VisionService, track: Any, config: CameraConfig, *, stale_s: float = STALE_S) -> None:
    """Consume the track into a new camera; when it ends (or this is cancelled) the camera goes."""
    from aiortc.mediastreams import MediaStreamError

    feed = TrackFeed()

    def source(*_: Any, **__: Any) -> TrackSource:
        return TrackSource(feed, fps=config.fps, stale_s=stale_s)

    camera = service.add(config, source)
    log.info("vision.app_camera", extra={"camera": camera.config.name, "room": camera.config.room})
    try:
        while True:
            feed.put(await track.recv())
    except MediaStreamError:
        pass  # the app stopped the track, or the peer connection closed
    except Exception as err:  # a broken track ends this camera, never the session
        log.warning("vision.app_camera_failed", extra={"camera": camera.config.name, "error": str(err)})
    finally:
        feed.end()
        await service.remove(camera)
