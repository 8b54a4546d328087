"""The cameras on the hub's LAN API, for the app: each camera's state and last event, and a snapshot
on demand. Both need a paired app's token; a snapshot goes to the app on the home network only.

The router finds the cameras at `app.state.vision` (a VisionService); include it in the LAN API with
`app.include_router(router)`.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from edge_runtime.api.auth import App
from edge_runtime.vision.config import slug
from edge_runtime.vision.service import VisionService

router = APIRouter(prefix="/v1/cameras", tags=["cameras"])


def _error(code: str, message: str, status: int, hint: str | None = None) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message, **({"hint": hint} if hint else {})}}, status)


def _vision(request: Request) -> VisionService | None:
    service: VisionService | None = getattr(request.app.state, "vision", None)
    return service


@router.get("", summary="Every camera: state, motion, people, last event (no pictures)")
async def cameras(request: Request, _: App) -> Any:
    if (service := _vision(request)) is None:
        return _error("VISION_OFF", "this hub runs no cameras", 503, "companion cameras add NAME SOURCE")
    return service.status()


@router.get(
    "/{name}/snapshot",
    summary="The camera's latest frame as a JPEG, to the app on the home network",
    responses={200: {"content": {"image/jpeg": {}}}},
)
async def snapshot(name: str, request: Request, _: App) -> Response:
    if (service := _vision(request)) is None:
        return _error("VISION_OFF", "this hub runs no cameras", 503, "companion cameras add NAME SOURCE")
    camera = service.cameras.get(slug(name))
    if camera is None:
        return _error("CAMERA_NOT_FOUND", f"no camera named {name[:64]!r}", 404)
    frame = camera.latest() if camera.state == "online" else None
    if frame is None:
        return _error("CAMERA_UNAVAILABLE", f"the {camera.config.name} camera has no picture now", 503)
    from models.vision_hub import cv2_module

    cv2 = cv2_module()
    ok, data = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, 85])
    if not ok:
        return _error("CAMERA_UNAVAILABLE", "the frame could not be encoded", 503)
    return Response(bytes(data), media_type="image/jpeg", headers={"Cache-Control": "no-store"})
