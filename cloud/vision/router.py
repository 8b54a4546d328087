"""/v1/vision: the raw image is the request body (PNG, JPEG or WebP). Its size is checked from the
header before any pixel is decoded; decoding and the model run on the model's own thread."""

from __future__ import annotations

import time
from typing import Annotated, Any

import numpy as np
from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel

from cloud.common.auth import require
from cloud.common.errors import ApiError
from cloud.common.tokens import Principal
from cloud.common.worker import ModelWorker

router = APIRouter(prefix="/v1/vision", tags=["vision"])
Viewer = Annotated[Principal, Depends(require("vision"))]
IMAGE_TYPES = ("image/png", "image/jpeg", "image/webp")
IMAGE_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {kind: {"schema": {"type": "string", "format": "binary"}} for kind in IMAGE_TYPES},
    }
}


class TextLine(BaseModel):
    text: str
    score: float
    box: list[list[float]]  # four [x, y] corners, clockwise from the top left, in image pixels


class OcrReply(BaseModel):
    width: int
    height: int
    lines: list[TextLine]
    text: str  # the lines joined with newlines, in reading order
    ms: float


class Face(BaseModel):
    x: int
    y: int
    width: int
    height: int


class FacesReply(BaseModel):
    width: int
    height: int
    count: int
    faces: list[Face]
    ms: float


async def _image(request: Request) -> bytes:
    """The body, if it is an allowed type and size, with a header that passes the pixel caps."""
    from models.vision import VisionError, probe

    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind not in IMAGE_TYPES:
        hint = f"send the image as the body with Content-Type {', '.join(IMAGE_TYPES)}"
        raise ApiError(
            f"'{kind or 'no content type'}' is not an accepted image type",
            code="VISION_UNSUPPORTED_TYPE",
            status=415,
            hint=hint,
        )
    settings = request.app.state.settings
    data = await request.body()
    if len(data) > settings.vision_max_bytes:
        raise ApiError(f"images are limited to {settings.vision_max_bytes} bytes", code="PAYLOAD_TOO_LARGE", status=413)
    if not data:
        raise ApiError("the body is empty", code="VISION_BAD_IMAGE", status=422, hint="send the image as the body")
    try:
        probe(data, max_pixels=settings.vision_max_pixels, max_side=settings.vision_max_side)
    except VisionError as err:
        raise _api(err) from err
    return data


def _api(err: Exception) -> ApiError:
    from models.vision import ImageTooLarge

    if isinstance(err, ImageTooLarge):
        return ApiError(err.message, code=err.code, status=413, hint=err.hint)
    return ApiError(
        str(getattr(err, "message", err)),
        code=getattr(err, "code", "VISION_BAD_IMAGE"),
        status=422,
        hint=getattr(err, "hint", None),
    )


def _decoded(request: Request, data: bytes) -> np.ndarray:
    """Runs on the model's thread: the pixels, or an ApiError the worker passes through."""
    from models.vision import BadImage, ImageTooLarge, decode

    settings = request.app.state.settings
    try:
        return decode(data, max_pixels=settings.vision_max_pixels, max_side=settings.vision_max_side)
    except (BadImage, ImageTooLarge) as err:
        raise _api(err) from err


async def _analyse(request: Request, worker_name: str, method: str) -> tuple[int, int, list[Any], float]:
    """Decode (with the size limits) and run one model on the worker's thread: (h, w, found, ms)."""
    data = await _image(request)
    worker: ModelWorker[Any] = getattr(request.app.state, worker_name)
    started = time.perf_counter()

    def run(model: Any) -> tuple[tuple[int, int], list[Any]]:
        pixels = _decoded(request, data)
        return pixels.shape[:2], getattr(model, method)(pixels)

    (height, width), found = await worker.run(run)
    return height, width, found, round(1000 * (time.perf_counter() - started), 1)


@router.post(
    "/ocr",
    response_model=OcrReply,
    openapi_extra=IMAGE_BODY,
    summary="Read the text in an image: lines with boxes and scores",
)
async def ocr(request: Request, _: Viewer) -> OcrReply:
    height, width, lines, ms = await _analyse(request, "vision_ocr", "read")
    found = [TextLine(text=line.text, score=line.score, box=line.box) for line in lines]
    return OcrReply(width=width, height=height, lines=found, text="\n".join(line.text for line in found), ms=ms)


@router.post(
    "/faces",
    response_model=FacesReply,
    openapi_extra=IMAGE_BODY,
    summary="Find frontal faces in an image: boxes in image pixels",
)
async def faces(request: Request, _: Viewer) -> FacesReply:
    height, width, found, ms = await _analyse(request, "vision_faces", "detect")
    boxes = [Face(x=f.x, y=f.y, width=f.width, height=f.height) for f in found]
    return FacesReply(width=width, height=height, count=len(boxes), faces=boxes, ms=ms)
