"""Face recognition on the hub with dlib: its HOG frontal face detector, its 5-point landmarks (to align
each face) and its ResNet model, which turns a face into 128 numbers. Two faces are the same person
when their embeddings lie close (euclidean distance).

The two model files come from `face-recognition-models` and are verified by sha256 through the registry
(`faces-dlib-landmarks-5`, `faces-dlib-resnet-v1`); dlib comes from `dlib-bin`'s wheels. Both are the
optional `faces` extra: without them `FaceRecognizer` raises `FacesNotInstalled`, never ImportError.

The match distance is 0.5, stricter than dlib's usual 0.6 (its 99.38 % on LFW pairs): at a door,
naming a stranger as someone the household knows is the worse mistake, and "someone I don't know"
the safe one. Photos of one person taken alike sit near 0.2 (see tests/models/test_faces.py).
"""

from __future__ import annotations

import importlib.util
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from models.engine import Engine
from models.errors import EngineError, ModelNotInstalled
from models.registry import Registry
from models.vision import Face

FACES_HINT = "pip install 'companion[faces]' (dlib-bin and face-recognition-models)"
LANDMARKS = "faces-dlib-landmarks-5"
RESNET = "faces-dlib-resnet-v1"
MATCH_DISTANCE = 0.5
DIMENSIONS = 128


class FaceError(EngineError):
    code = "FACES_ERROR"


class FacesNotInstalled(ModelNotInstalled):
    code = "FACES_NOT_INSTALLED"

    def __init__(self, what: str) -> None:
        super().__init__(f"face recognition isn't installed ({what}): {FACES_HINT}", hint=FACES_HINT)


def faces_installed() -> bool:
    """Whether dlib and the model package are there, without importing either."""
    return all(importlib.util.find_spec(name) is not None for name in ("dlib", "face_recognition_models"))


@dataclass(frozen=True)
class SeenFace:
    box: Face
    score: float  # the detector's confidence; dlib's own threshold is 0
    embedding: np.ndarray  # 128 float64, unit scale: distances, not cosines

    @property
    def area(self) -> int:
        return self.box.width * self.box.height


@dataclass(frozen=True)
class Match:
    name: str | None  # None: nobody enrolled is close enough
    distance: float  # to the closest enrolled face (inf with nobody enrolled)


def closest(
    embedding: np.ndarray, known: Mapping[str, Sequence[np.ndarray]], *, threshold: float = MATCH_DISTANCE
) -> Match:
    """The enrolled person nearest to `embedding` (over each of their photos), if within `threshold`."""
    best_name, best = None, float("inf")
    for name, samples in known.items():
        for sample in samples:
            distance = float(np.linalg.norm(np.asarray(sample, dtype=np.float64) - embedding))
            if distance < best:
                best_name, best = name, distance
    return Match(best_name if best <= threshold else None, best)


class FaceRecognizer(Engine):
    """Faces in a frame, each with its embedding. Frames are scaled so their long side is at most
    `work_side` before the detector runs (its cost grows with pixels), and the detector looks at twice
    that size (`upsample=1`) to find faces down to about 40 pixels in the scaled frame.

    `min_score` drops the detector's weak hits: at dlib's own 0 the mission patch on the astronaut's suit
    (scikit-image's photo) scores 0.12 and counts as a face; the real face scores 1.16."""

    error_type = FaceError
    kind = "faces"

    def __init__(self, registry: Registry, *, work_side: int = 800, upsample: int = 1, min_score: float = 0.3) -> None:
        super().__init__()
        try:
            import dlib
        except ImportError as err:
            raise FacesNotInstalled("no dlib") from err
        try:
            landmarks, resnet = registry.path(LANDMARKS), registry.path(RESNET)
        except ModelNotInstalled as err:
            if registry.override(LANDMARKS) or registry.override(RESNET):
                raise
            raise FacesNotInstalled("no face-recognition-models") from err
        try:
            self._detector: Any = dlib.get_frontal_face_detector()
            self._landmarks: Any = dlib.shape_predictor(str(landmarks))
            self._resnet: Any = dlib.face_recognition_model_v1(str(resnet))
        except RuntimeError as err:
            raise FaceError(f"dlib could not load the face models: {err}") from err
        self._dlib = dlib
        self.work_side, self.upsample, self.min_score = work_side, upsample, min_score

    def faces(self, image: np.ndarray) -> list[SeenFace]:
        """Every face in a BGR (OpenCV) or grey frame, largest first."""
        return self._inline(self._faces, image, what="find faces")

    def _faces(self, image: np.ndarray) -> list[SeenFace]:
        rgb = _rgb(image)
        scale = min(1.0, self.work_side / max(rgb.shape[:2]))
        if scale < 1.0:
            import cv2

            rgb = cv2.resize(rgb, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        rects, scores, _kinds = self._detector.run(rgb, self.upsample, self.min_score)
        found = []
        for rect, score in zip(rects, scores, strict=True):
            shape = self._landmarks(rgb, rect)
            embedding = np.asarray(self._resnet.compute_face_descriptor(rgb, shape), dtype=np.float64)
            box = Face(*(round(v / scale) for v in (rect.left(), rect.top(), rect.width(), rect.height())))
            found.append(SeenFace(box, round(float(score), 3), embedding))
        return sorted(found, key=lambda f: f.area, reverse=True)


def _rgb(image: np.ndarray) -> np.ndarray:
    if image.ndim == 2:
        return np.ascontiguousarray(np.stack([image] * 3, axis=-1), dtype=np.uint8)
    if image.ndim != 3 or image.shape[2] not in (3, 4):
        raise FaceError(f"not an image: an array of shape {image.shape}")
    return np.ascontiguousarray(image[:, :, 2::-1], dtype=np.uint8)
