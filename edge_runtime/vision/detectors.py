"""Which people detector the cameras and the voice skill use: the setting `people_detector`.

"hog" (the default) is `PeopleDetector`: OpenCV's HOG bodies plus the Haar face cascade, both in
OpenCV's wheel. Anything else names a `role = "people"` manifest entry, an ONNX detector run by
`models.people_onnx.YoloPeople` (today `people-yolov8s-fall`, optional: `companion models install
people-yolov8s-fall`). A chosen model that is unknown, not installed or fails verification falls back
to HOG with one warning that says why and how to fix it; the hub never fails to start over it.
"""

from __future__ import annotations

import logging
import threading

from common.errors import CompanionError
from models.people_onnx import YoloPeople
from models.registry import Registry
from models.vision_hub import FindsPeople, PeopleDetector

log = logging.getLogger(__name__)
HOG = "hog"
ROLE = "people"


class PeopleDetectors:
    """Called once per camera (and by the skill) for the detector to use. HOG: a new one each time
    (cheap, and each camera's thread keeps its own OpenCV objects). ONNX: one session, loaded on the
    first call and shared (onnxruntime's `run` is thread-safe, and one copy of the weights is enough).
    `using` says which one it is after the first call: the choice, or "hog" after a fallback."""

    def __init__(self, choice: str = HOG, registry: Registry | None = None) -> None:
        self.choice = (choice or HOG).strip()
        self.using = self.choice
        self._registry = registry
        self._shared: FindsPeople | None = None
        self._lock = threading.Lock()

    def __call__(self) -> FindsPeople:
        if self.using == HOG:
            return PeopleDetector()
        with self._lock:
            if self._shared is None and self.using != HOG:
                self._shared = self._load()
        return self._shared if self._shared is not None else PeopleDetector()

    def _load(self) -> FindsPeople | None:
        registry = self._registry or Registry()
        try:
            entry = registry.entry(self.choice)
            if entry.role != ROLE:
                raise CompanionError(f"model '{self.choice}' is a {entry.role} model, not a people detector")
            return YoloPeople(registry, model_id=self.choice)
        except Exception as err:  # a model the hub cannot load must not stop the cameras
            reason = err.message if isinstance(err, CompanionError) else f"{type(err).__name__}: {err}"
            hint = (err.hint if isinstance(err, CompanionError) else None) or (
                f'set people_detector to "{HOG}" or to a people model of the manifest'
            )
            log.warning(
                "vision.people_detector_fallback: %s unavailable (%s); using HOG + Haar faces. %s",
                self.choice,
                reason,
                hint,
                extra={"wanted": self.choice, "using": HOG, "reason": reason, "hint": hint},
            )
            self.using = HOG
            return None
