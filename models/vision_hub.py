"""Vision runtimes the hub can afford on its CPU, all from OpenCV's own wheel (nothing to download):
motion by background subtraction, people (HOG body detector plus the Haar face cascade), QR codes.

Each is an `Engine`: the base class keeps the metrics and wraps errors; these hold only the OpenCV calls.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from models.engine import Engine, EngineMetrics
from models.errors import ModelNotInstalled
from models.vision import Face, FaceDetector, VisionError

EDGE_HINT = "pip install 'companion[edge]' (it brings opencv-python-headless<5)"
Zone = tuple[float, float, float, float]  # x, y, width, height, as fractions of the frame


def cv2_module() -> Any:
    try:
        import cv2
    except ImportError as err:
        raise ModelNotInstalled("opencv-python-headless is not installed", hint=EDGE_HINT) from err
    return cv2


def zone_mask(shape: tuple[int, int], zones: Sequence[Zone]) -> np.ndarray:
    """A uint8 mask (255 inside any zone); the whole frame when there are no zones."""
    height, width = shape
    if not zones:
        return np.full((height, width), 255, np.uint8)
    mask = np.zeros((height, width), np.uint8)
    for x, y, w, h in zones:
        x0, y0 = round(max(0.0, x) * width), round(max(0.0, y) * height)
        x1, y1 = round(min(1.0, x + w) * width), round(min(1.0, y + h) * height)
        mask[y0:y1, x0:x1] = 255
    return mask


class MotionDetector(Engine):
    """The share of a camera's zones that moved in a frame (MOG2 on a small grey copy).

    `sensitivity` (0..1) sets how much of the zones must move: 0.5 is 2.6 %, 1.0 is 0.1 %, 0.0 is 5.1 %.
    The first `warmup` frames only teach the background.
    """

    error_type = VisionError
    kind = "motion"

    def __init__(
        self,
        zones: Sequence[Zone] = (),
        *,
        sensitivity: float = 0.5,
        work_width: int = 320,
        history: int = 100,
        warmup: int = 5,
    ) -> None:
        super().__init__()
        self._cv2 = cv2_module()
        self.zones = tuple(zones)
        self.sensitivity = min(1.0, max(0.0, sensitivity))
        self.threshold = 0.001 + (1.0 - self.sensitivity) * 0.05
        self.work_width, self.warmup = work_width, warmup
        self._sub = self._cv2.createBackgroundSubtractorMOG2(history=history, varThreshold=25, detectShadows=False)
        self._kernel = np.ones((3, 3), np.uint8)
        self._mask: np.ndarray | None = None
        self._seen = 0
        self.last_score = 0.0

    def score(self, frame: np.ndarray) -> float:
        return self._inline(self._score, frame, what="measure motion")

    def moving(self, frame: np.ndarray) -> bool:
        return self.score(frame) >= self.threshold

    def _score(self, frame: np.ndarray) -> float:
        cv2 = self._cv2
        scale = self.work_width / frame.shape[1]
        small = cv2.resize(
            frame, (self.work_width, max(1, round(frame.shape[0] * scale))), interpolation=cv2.INTER_AREA
        )
        gray = cv2.cvtColor(small, cv2.COLOR_BGR2GRAY) if small.ndim == 3 else small
        gray = cv2.GaussianBlur(gray, (5, 5), 0)
        if self._mask is None or self._mask.shape != gray.shape:
            self._mask = zone_mask(gray.shape, self.zones)
        moved = self._sub.apply(gray)
        self._seen += 1
        if self._seen <= self.warmup:
            self.last_score = 0.0
            return 0.0
        moved = cv2.morphologyEx(moved, cv2.MORPH_OPEN, self._kernel)
        inside = cv2.bitwise_and(moved, self._mask)
        self.last_score = float(cv2.countNonZero(inside)) / max(1, cv2.countNonZero(self._mask))
        return self.last_score


@dataclass(frozen=True)
class Person:
    x: int
    y: int
    width: int
    height: int
    how: str  # "body" (HOG, or an ONNX detector's person box) or "face" (Haar)
    score: float | None = None  # the detector's confidence, where it gives one


class FindsPeople(Protocol):
    """What a camera and the voice skill need of a people detector: HOG (`PeopleDetector`) or an ONNX
    one (`models.people_onnx.YoloPeople`). Both are `Engine`s, so `metrics` counts their calls."""

    metrics: EngineMetrics

    def detect(self, frame: np.ndarray) -> list[Person]: ...


class PeopleDetector(Engine):
    """People in a frame: whole bodies with OpenCV's HOG pedestrian detector, and faces close to the
    camera (a door camera sees heads, not bodies) with the Haar cascade. A face inside a body counts once.

    HOG crashes OpenCV on images smaller than its 64x128 window, so small frames are padded first.
    """

    error_type = VisionError
    kind = "people"

    def __init__(self, *, work_side: int = 640, body_score: float = 0.8, face_neighbors: int = 16) -> None:
        super().__init__()
        cv2 = self._cv2 = cv2_module()
        self._hog = cv2.HOGDescriptor()
        self._hog.setSVMDetector(cv2.HOGDescriptor_getDefaultPeopleDetector())
        self._faces = FaceDetector(min_neighbors=face_neighbors, work_side=work_side)
        self.work_side, self.body_score = work_side, body_score

    def detect(self, frame: np.ndarray) -> list[Person]:
        return self._inline(self._detect, frame, what="find people")

    def bodies(self, frame: np.ndarray) -> list[Person]:
        cv2 = self._cv2
        scale = min(1.0, self.work_side / max(frame.shape[:2]))
        small = frame if scale == 1.0 else cv2.resize(frame, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        pad_y, pad_x = max(0, 136 - small.shape[0]), max(0, 72 - small.shape[1])
        if pad_y or pad_x:
            small = cv2.copyMakeBorder(small, 0, pad_y, 0, pad_x, cv2.BORDER_CONSTANT, value=0)
        rects, weights = self._hog.detectMultiScale(small, winStride=(8, 8), padding=(8, 8), scale=1.05)
        found = [(r, float(w)) for r, w in zip(rects, np.ravel(weights), strict=True) if float(w) >= self.body_score]
        boxes = [([round(int(v) / scale) for v in r], w) for r, w in found]
        return [Person(x, y, w, h, "body", round(score, 3)) for (x, y, w, h), score in boxes]

    def _detect(self, frame: np.ndarray) -> list[Person]:
        bodies = self.bodies(frame)
        faces = [f for f in self._faces.detect(frame) if not any(_inside(f, b) for b in bodies)]
        return bodies + [Person(f.x, f.y, f.width, f.height, how="face") for f in faces]


def _inside(face: Face, body: Person) -> bool:
    cx, cy = face.x + face.width / 2, face.y + face.height / 2
    return body.x <= cx <= body.x + body.width and body.y <= cy <= body.y + body.height


class QrReader(Engine):
    """The text of every QR code in a frame (OpenCV's QRCodeDetector)."""

    error_type = VisionError
    kind = "qr"

    def __init__(self) -> None:
        super().__init__()
        self._detector = cv2_module().QRCodeDetector()

    def read(self, frame: np.ndarray) -> list[str]:
        return self._inline(self._read, frame, what="read QR codes")

    def _read(self, frame: np.ndarray) -> list[str]:
        ok, texts, _points, _straight = self._detector.detectAndDecodeMulti(frame)
        if not ok:
            text, _points, _straight = self._detector.detectAndDecode(frame)
            texts = (text,)
        return [str(t) for t in texts if t]
