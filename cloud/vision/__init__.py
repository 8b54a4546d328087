"""vision: OCR and face detection for images a hub escalates (models/vision.py runtimes)."""

from __future__ import annotations

from fastapi import FastAPI

from cloud.common.service import Service
from cloud.common.worker import ModelWorker
from cloud.vision.router import router


async def start(app: FastAPI) -> None:
    """Only the workers here: each model loads on its first request, on its own thread."""
    from models.registry import Registry
    from models.vision import FaceDetector, Ocr

    settings = app.state.settings
    registry = Registry()
    pending = settings.model_max_pending
    app.state.vision_ocr = ModelWorker(
        "ocr", lambda: Ocr(registry, threads=settings.vision_threads), max_pending=pending
    )
    app.state.vision_faces = ModelWorker("faces", FaceDetector, max_pending=pending)


async def stop(app: FastAPI) -> None:
    for name in ("vision_ocr", "vision_faces"):
        worker = getattr(app.state, name, None)
        if worker is not None:
            worker.close()


service = Service("vision", router, start, stop)
