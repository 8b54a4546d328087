"""Where a camera's frames come from: a stream or local camera through OpenCV's VideoCapture
(FFmpeg for http MJPEG and RTSP, the OS's backend for `device:N`), or a folder of images.

Each source is blocking: the camera runs it on its own thread. `read` returns None when the
source has stopped (the camera then reconnects with backoff).
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from models.errors import CompanionError
from models.vision_hub import cv2_module

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp")
CAPTURE_OPTIONS = "OPENCV_FFMPEG_CAPTURE_OPTIONS"
_options_lock = threading.Lock()


class CameraError(CompanionError):
    code = "CAMERA_UNAVAILABLE"


class FrameSource(Protocol):
    live: bool  # a stream paces itself; a folder is read at the camera's fps

    def open(self) -> None: ...

    def read(self) -> np.ndarray | None: ...

    def close(self) -> None: ...


class CaptureSource:
    """An http MJPEG or RTSP stream, or a local camera, through cv2.VideoCapture."""

    live = True

    def __init__(self, source: str, *, timeout_s: float = 5.0, rtsp_transport: str = "tcp") -> None:
        self.source, self.timeout_ms, self.rtsp_transport = source, int(timeout_s * 1000), rtsp_transport
        self._cap: Any = None

    def open(self) -> None:
        cv2 = cv2_module()
        params = [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, self.timeout_ms, cv2.CAP_PROP_READ_TIMEOUT_MSEC, self.timeout_ms]
        if self.source.startswith("device:"):
            cap = cv2.VideoCapture(int(self.source[7:]), cv2.CAP_ANY, params)
        elif self.source.startswith("rtsp") and self.rtsp_transport == "udp":
            cap = _with_udp(lambda: cv2.VideoCapture(self.source, cv2.CAP_FFMPEG, params))
        else:
            cap = cv2.VideoCapture(self.source, cv2.CAP_FFMPEG, params)
        if not cap.isOpened():
            cap.release()
            raise CameraError(f"could not open {_safe(self.source)}", hint="is the camera on, and the URL right?")
        self._cap = cap

    def read(self) -> np.ndarray | None:
        if self._cap is None:
            return None
        ok, frame = self._cap.read()
        return frame if ok and frame is not None and frame.size else None

    def close(self) -> None:
        if self._cap is not None:
            self._cap.release()
            self._cap = None


class FolderSource:
    """The newest image in a folder (a camera that uploads snapshots, or pictures dropped in)."""

    live = False

    def __init__(self, folder: str) -> None:
        self.folder = Path(folder)
        self._key: tuple[str, int] | None = None
        self._frame: np.ndarray | None = None

    def open(self) -> None:
        if not self.folder.is_dir():
            raise CameraError(f"{self.folder} is not a folder")
        if self._newest() is None:
            raise CameraError(f"{self.folder} holds no images yet", hint=f"images: {', '.join(IMAGE_SUFFIXES)}")

    def _newest(self) -> Path | None:
        try:
            images = [p for p in self.folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file()]
        except OSError:
            return None
        return max(images, key=lambda p: (p.stat().st_mtime_ns, p.name), default=None)

    def read(self) -> np.ndarray | None:
        newest = self._newest()
        if newest is None:
            return None
        key = (newest.name, newest.stat().st_mtime_ns)
        if key != self._key:
            frame = cv2_module().imread(str(newest), 1)
            if frame is None:  # half-written: keep the last frame, try again next time
                return self._frame
            self._key, self._frame = key, frame
        return self._frame

    def close(self) -> None:
        self._key = None


def _with_udp(open_capture: Any) -> Any:
    """OpenCV asks FFmpeg for RTSP over TCP, and takes other FFmpeg options only from this variable,
    read when a capture opens: set it for that call alone (one camera opens at a time)."""
    with _options_lock:
        before = os.environ.get(CAPTURE_OPTIONS)
        os.environ[CAPTURE_OPTIONS] = "rtsp_transport;udp"
        try:
            return open_capture()
        finally:
            if before is None:
                os.environ.pop(CAPTURE_OPTIONS, None)
            else:
                os.environ[CAPTURE_OPTIONS] = before


def source_for(source: str, *, rtsp_transport: str = "tcp") -> FrameSource:
    if source.startswith(("http://", "https://", "rtsp://", "rtsps://", "device:")):
        return CaptureSource(source, rtsp_transport=rtsp_transport)
    return FolderSource(source)


def grab(source: str, *, attempts: int = 3, wait_s: float = 0.5, rtsp_transport: str = "tcp") -> np.ndarray:
    """One frame, now (for `cameras snapshot` and `show`)."""
    src = source_for(source, rtsp_transport=rtsp_transport)
    try:
        for attempt in range(attempts):
            try:
                src.open()
                frame = src.read()
                if frame is not None:
                    return frame
            except CameraError:
                if attempt == attempts - 1:
                    raise
            src.close()
            time.sleep(wait_s)
    finally:
        src.close()
    raise CameraError(f"no frame from {_safe(source)}")


def _safe(source: str) -> str:
    from edge_runtime.vision.config import redact

    return redact(source)
