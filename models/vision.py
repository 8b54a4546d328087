"""Vision runtimes: OCR (RapidOCR with the PP-OCR ONNX models its wheel ships, pinned in the
registry) and face detection (OpenCV's Haar cascade).

Images come from the network, so `probe` reads only the header and refuses oversized ones before a
single pixel is decoded: a 40 KB PNG can declare 20000x20000 pixels (1.2 GB once decoded).
"""

from __future__ import annotations

import io
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from models.engine import Engine
from models.errors import EngineError, ModelNotInstalled
from models.registry import Registry

FORMATS = ("PNG", "JPEG", "WEBP")
CLOUD_HINT = "pip install 'companion[cloud]' (rapidocr, opencv-python-headless<5), then `companion models install`"
SEND = f"send one of {', '.join(FORMATS)}"


class VisionError(EngineError):
    code = "VISION_ERROR"


class BadImage(VisionError):
    code = "VISION_BAD_IMAGE"


class ImageTooLarge(VisionError):
    code = "VISION_IMAGE_TOO_LARGE"


@dataclass(frozen=True)
class ImageInfo:
    format: str
    width: int
    height: int


@dataclass(frozen=True)
class TextLine:
    text: str
    score: float
    box: list[list[float]]  # four corners, clockwise from top left, in image pixels


@dataclass(frozen=True)
class Face:
    x: int
    y: int
    width: int
    height: int


def _pil() -> Any:
    try:
        from PIL import Image
    except ImportError as err:
        raise ModelNotInstalled("Pillow is not installed", hint=CLOUD_HINT) from err
    return Image


def probe(data: bytes, *, max_pixels: int, max_side: int) -> ImageInfo:
    """Format and size from the header alone; refuses anything over the caps."""
    image_mod = _pil()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", image_mod.DecompressionBombWarning)
            with image_mod.open(io.BytesIO(data)) as img:
                info = ImageInfo(str(img.format), int(img.width), int(img.height))
    except (image_mod.DecompressionBombError, image_mod.DecompressionBombWarning) as err:
        raise ImageTooLarge(f"the image declares too many pixels ({err})") from err
    except Exception as err:
        raise BadImage(f"not a readable image ({type(err).__name__})", hint=SEND) from err
    if info.format not in FORMATS:
        raise BadImage(f"{info.format} images are not supported", hint=SEND)
    if info.width < 1 or info.height < 1:
        raise BadImage(f"the image declares {info.width}x{info.height} pixels")
    if info.width > max_side or info.height > max_side or info.width * info.height > max_pixels:
        raise ImageTooLarge(
            f"{info.width}x{info.height} is over the limit ({max_side} px a side, {max_pixels} pixels)",
            hint="scale the image down first",
        )
    return info


def decode(data: bytes, *, max_pixels: int, max_side: int) -> np.ndarray:
    """An HxWx3 BGR uint8 array (OpenCV's order), upright as EXIF says. Probes first."""
    probe(data, max_pixels=max_pixels, max_side=max_side)
    image_mod = _pil()
    from PIL import ImageOps

    try:
        with image_mod.open(io.BytesIO(data)) as img:
            rgb = np.asarray(ImageOps.exif_transpose(img).convert("RGB"), dtype=np.uint8)
    except Exception as err:
        raise BadImage(f"the image data is corrupt ({type(err).__name__}: {err})") from err
    return np.ascontiguousarray(rgb[:, :, ::-1])


class Ocr(Engine):
    """Text lines with boxes and scores. Models are the registry's paths, never RapidOCR's own
    lookup (which downloads whatever its config names when a file is missing).

    Detection scales the long side down to `det_side` and never up: RapidOCR's default scales the
    *short* side up to 736, so a 720x160 sign ran at 3312x736 (1.0 s instead of 0.13 s, same text).
    """

    error_type = VisionError
    kind = "ocr"

    def __init__(
        self,
        registry: Registry,
        *,
        det: str = "ocr-ppocr-det",
        rec: str = "ocr-ppocr-rec",
        cls: str = "ocr-ppocr-cls",
        threads: int = 2,
        min_score: float = 0.5,
        det_side: int = 1600,
    ) -> None:
        super().__init__()
        try:
            from rapidocr import RapidOCR
        except ImportError as err:
            raise ModelNotInstalled("rapidocr is not installed", hint=CLOUD_HINT) from err
        paths = {name: str(registry.path(model_id)) for name, model_id in (("Det", det), ("Rec", rec), ("Cls", cls))}
        params: dict[str, Any] = {f"{name}.model_path": path for name, path in paths.items()}
        params.update(
            {
                "Global.log_level": "error",
                "Global.text_score": min_score,
                "Det.limit_type": "max",
                "Det.limit_side_len": det_side,
                "EngineConfig.onnxruntime.intra_op_num_threads": threads,
                "EngineConfig.onnxruntime.inter_op_num_threads": 1,
            }
        )
        try:
            self._ocr = RapidOCR(params=params)
        except Exception as err:
            raise VisionError(f"could not load the OCR models: {err}") from err

    def read(self, image: np.ndarray) -> list[TextLine]:
        started = time.perf_counter()
        try:
            out: Any = self._ocr(image)
        except Exception as err:
            raise self._fail(err, "read text") from err
        finally:
            self._timed(started)
        if out.boxes is None or out.txts is None:
            return []
        return [
            TextLine(str(text), round(float(score), 4), [[round(float(x), 1), round(float(y), 1)] for x, y in box])
            for box, text, score in zip(out.boxes, out.txts, out.scores, strict=True)
        ]


class FaceDetector(Engine):
    """Frontal faces with OpenCV's Haar cascade. Large images are scaled down first: the cascade's
    cost grows with pixels, and faces in a photo are rarely under 1/40 of its long side."""

    error_type = VisionError
    kind = "faces"

    def __init__(
        self, cascade: str = "haarcascade_frontalface_default.xml", *, work_side: int = 1280, min_neighbors: int = 5
    ) -> None:
        super().__init__()
        try:
            import cv2
        except ImportError as err:
            raise ModelNotInstalled("opencv-python-headless is not installed", hint=CLOUD_HINT) from err
        path = Path(getattr(getattr(cv2, "data", None), "haarcascades", "")) / cascade
        if not path.is_file():
            hint = "OpenCV 5 wheels ship no cascades: pip install 'opencv-python-headless<5'"
            raise ModelNotInstalled(f"OpenCV {cv2.__version__} has no {cascade}", hint=hint)
        self._cv2 = cv2
        self._classifier = cv2.CascadeClassifier(str(path))
        if self._classifier.empty():
            raise VisionError(f"could not load the cascade {path}")
        self.work_side = work_side
        self.min_neighbors = min_neighbors

    def detect(self, image: np.ndarray) -> list[Face]:
        return self._inline(self._detect, image, what="find faces")

    def _detect(self, image: np.ndarray) -> list[Face]:
        cv2 = self._cv2
        gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if image.ndim == 3 else image
        scale = min(1.0, self.work_side / max(gray.shape[:2]))
        if scale < 1.0:
            gray = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        gray = cv2.equalizeHist(gray)
        smallest = max(20, max(gray.shape[:2]) // 40)
        found = self._classifier.detectMultiScale(
            gray, scaleFactor=1.1, minNeighbors=self.min_neighbors, minSize=(smallest, smallest)
        )
        return [Face(*(round(int(v) / scale) for v in rect)) for rect in found]
