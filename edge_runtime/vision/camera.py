"""One camera, on its own thread: read frames, keep the latest, look for motion at the camera's fps,
and reconnect with backoff when the source stops (the camera is unavailable until frames come back).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

import numpy as np

from edge_runtime.vision.config import CameraConfig
from edge_runtime.vision.events import AVAILABLE, CLEARED, MOTION, NO_PERSON, PERSON, UNAVAILABLE, VisionEvent, event
from edge_runtime.vision.sources import FrameSource, source_for
from models.errors import CompanionError
from models.vision_hub import FindsPeople, MotionDetector, PeopleDetector, Person

log = logging.getLogger(__name__)
OnEvent = Callable[[VisionEvent], None]
ACTIVE_PEOPLE_S = 0.5


class Hold:
    """Motion on at the first moving frame; off once `hold_s` pass without one."""

    def __init__(self, hold_s: float) -> None:
        self.hold_s, self.on, self.last = hold_s, False, float("-inf")

    def update(self, moving: bool, now: float, kinds: tuple[str, str] = (MOTION, CLEARED)) -> str | None:
        if moving:
            self.last = now
            if not self.on:
                self.on = True
                return kinds[0]
        elif self.on and now - self.last >= self.hold_s:
            self.on = False
            return kinds[1]
        return None


class Camera:
    def __init__(
        self,
        config: CameraConfig,
        on_event: OnEvent,
        *,
        backoff_s: tuple[float, float] = (0.5, 30.0),
        source: Callable[..., FrameSource] = source_for,
        people: Callable[[], FindsPeople] = PeopleDetector,
    ) -> None:
        """`people` makes the detector a camera with `people = true` runs (vision/detectors.py)."""
        self.config, self.on_event = config, on_event
        self.backoff_min, self.backoff_max = backoff_s
        self._source_for = source
        self.state = "starting"  # then "online" / "unavailable"
        self.frame: np.ndarray | None = None
        self.frame_at = 0.0  # time.time() of the latest frame
        self.frames = 0
        self.analysed = 0
        self.reconnects = 0
        self.error: str | None = None
        self.hold = Hold(config.hold_s)
        zones = [(z[0], z[1], z[2], z[3]) for z in config.zones]
        self.motion = MotionDetector(zones, sensitivity=config.sensitivity) if config.motion else None
        self.people: FindsPeople | None = people() if config.people else None
        self.people_seen = 0  # people in the last frame looked at
        # the scheduled detection's latest result: (time.monotonic() of the frame it looked at, who it found)
        self.people_result: tuple[float, tuple[Person, ...]] | None = None
        self.people_hold = Hold(config.hold_s)
        self._people_due = 0.0
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    @property
    def motion_on(self) -> bool:
        return self.hold.on

    def latest(self) -> np.ndarray | None:
        with self._lock:
            return None if self.frame is None else self.frame.copy()

    def recent_people(self, max_age_s: float) -> tuple[float, tuple[Person, ...]] | None:
        """The scheduled people detection's result, with its age in seconds, if it looked at a frame at
        most `max_age_s` ago and the camera is still online; else None (look at the newest frame)."""
        result = self.people_result  # one reference, swapped whole by the camera's thread
        if result is None or self.state != "online":
            return None
        age = time.monotonic() - result[0]
        return (age, result[1]) if age <= max_age_s else None

    def start(self) -> Camera:
        self._thread = threading.Thread(target=self._run, name=f"camera-{self.config.slug}", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout_s: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_s)

    def went_away(self) -> None:
        """After `stop()`, for a camera that is gone for good: unavailable, and its sensors off."""
        self._unavailable()

    def _run(self) -> None:
        delay = self.backoff_min
        while not self._stop.is_set():
            source = self._source_for(self.config.source, rtsp_transport=self.config.rtsp_transport)
            try:
                source.open()
                got = self._frames(source)
            except CompanionError as err:
                got, self.error = 0, err.message
            except Exception as err:  # an OpenCV error must not kill the camera's thread
                got, self.error = 0, f"{type(err).__name__}: {err}"
            finally:
                source.close()
            if self._stop.is_set():
                break
            self._unavailable()
            delay = self.backoff_min if got else min(self.backoff_max, delay * 2)
            self.reconnects += 1
            log.info("camera.reconnect", extra={"camera": self.config.name, "in_s": delay, "error": self.error})
            self._stop.wait(delay)

    def _frames(self, source: FrameSource) -> int:
        """Read until the source stops; returns how many frames it gave."""
        period = 1.0 / self.config.fps
        got, next_due = 0, 0.0
        while not self._stop.is_set():
            frame = source.read()
            if frame is None:
                self.error = self.error or "the stream stopped"
                return got
            got += 1
            now = time.monotonic()
            with self._lock:
                self.frame, self.frame_at, self.frames = frame, time.time(), self.frames + 1
            if self.state != "online":
                self.state, self.error = "online", None
                self.on_event(event(AVAILABLE, self.config))
            if now >= next_due - 0.25 * period:  # a stream's frames jitter: one a little early still counts
                next_due = next_due + period if now - next_due < period else now + period
                self._analyse(frame, now)
            if not source.live:
                self._stop.wait(max(0.0, next_due - time.monotonic()))
        return got

    def _analyse(self, frame: np.ndarray, now: float) -> None:
        self.analysed += 1
        moving = self.motion.moving(frame) if self.motion is not None else False
        if (change := self.hold.update(moving, now)) is not None:
            self.on_event(event(change, self.config))
            if change == MOTION:
                self._people_due = now
        if self.people is not None:
            self._look_for_people(frame, now)

    def _look_for_people(self, frame: np.ndarray, now: float) -> None:
        """Twice a second while there is motion or someone in view (at once when motion starts),
        otherwise every `people_every_s`: HOG and the face cascade (or the ONNX detector) cost about
        0.2-0.4 s a frame on 2 cores."""
        if now < self._people_due:
            return
        assert self.people is not None
        found = tuple(self.people.detect(frame))
        self.people_result, self.people_seen = (now, found), len(found)
        if (change := self.people_hold.update(self.people_seen > 0, now, (PERSON, NO_PERSON))) is not None:
            self.on_event(event(change, self.config, people=self.people_seen))
        active = self.hold.on or self.people_hold.on
        self._people_due = now + (ACTIVE_PEOPLE_S if active else self.config.people_every_s)

    def _unavailable(self) -> None:
        self.people_result = None  # what was seen before the stream stopped is no answer for now
        if self.state != "unavailable":
            self.state = "unavailable"
            self.on_event(event(UNAVAILABLE, self.config))
        for hold, cleared in ((self.hold, CLEARED), (self.people_hold, NO_PERSON)):
            if hold.on:  # no frames, no motion and no one seen: the sensors must not stay on
                hold.on = False
                self.on_event(event(cleared, self.config))
