"""The hub's LAN API for the app: REST + a WebSocket event stream + WebRTC signalling, and the
reference web app as static files. OpenAPI at /openapi.json."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles

from common.api_errors import ErrorPolicy, install_errors
from common.asgi import BodyLimit
from edge_runtime.api.auth import AttemptLimiter, socket_app
from edge_runtime.api.context import HubContext, visible_to
from edge_runtime.api.home_routes import router as home_router
from edge_runtime.api.link_routes import router as link_router
from edge_runtime.api.metrics_routes import STATUS as METRICS_STATUS
from edge_runtime.api.metrics_routes import router as metrics_router
from edge_runtime.api.routes import router
from edge_runtime.api.webrtc_routes import router as webrtc_router
from edge_runtime.app_events import EVENT_ENVELOPE, TURN_EVENTS
from models.errors import CompanionError

log = logging.getLogger("companion.api")
WEB_APP = Path(__file__).parent / "web"
MAX_STREAMS_PER_APP = 8
HTTP_CODES = {404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED"}
MAX_BODY_BYTES = 256 * 1024  # the largest is an SDP offer; refused before it is read whole
STATUS = {
    "TOKEN_MISSING": 401,
    "TOKEN_INVALID": 401,
    "TOKEN_REVOKED": 401,
    "PAIRING_WRONG_CODE": 403,
    "PAIRING_LOCKED": 423,
    "PAIRING_NO_CODE": 409,
    "PAIRING_RATE_LIMITED": 429,
    "PAIRING_BUSY": 503,
    "APP_UNKNOWN": 404,
    "DEVICE_UNKNOWN": 404,
    "DEVICE_OFFLINE": 503,
    "MQTT_DISCONNECTED": 503,
    "DEVICE_UNCONFIRMED": 504,
    "DEVICE_INVALID_COMMAND": 422,
    "DEVICE_BAD_TOPIC": 422,
    "DEVICE_TOPIC_GUARDED": 403,
    "MQTT_MESSAGE_REFUSED": 502,
    "MQTT_QUEUE_FULL": 503,
    "DEVICES_OFF": 503,
    "BRAIN_OFF": 503,
    "WEBRTC_OFF": 503,
    "WEBRTC_TOO_MANY_SESSIONS": 503,
    "WEBRTC_UNKNOWN_SESSION": 404,
    "WEBRTC_UNAVAILABLE": 503,
    "SETTINGS_UNKNOWN_WAKE_WORD": 422,
    "SETTINGS_UNKNOWN_TIMEZONE": 422,
    "LINK_ALREADY": 409,
    "LINK_NONE": 409,
    "CLOUD_UNREACHABLE": 502,
    "HUB_IDENTITY": 409,
}


def error_body(
    code: str, message: str, hint: str | None = None, *, status: int = 400, param: str | None = None
) -> dict[str, Any]:
    """The hub's shape: {"error": {"code", "message"}}, and "hint" when there is one."""
    return {"error": {"code": code, "message": message, **({"hint": hint} if hint else {})}}


def _unexpected(request: Request, err: Exception) -> str:
    log.exception("api.error", extra={"path": request.url.path})
    return f"{type(err).__name__}: the hub failed at this request"


ERRORS = ErrorPolicy(
    body=error_body,
    status=lambda err: STATUS.get(err.code) or METRICS_STATUS.get(err.code, 400),
    http_codes=HTTP_CODES,
    http_fallback=lambda status: f"HTTP_{status}",
    validation_code="VALIDATION_ERROR",
    unexpected=_unexpected,
)


def create_api(hub: HubContext) -> FastAPI:
    about = (
        "The hub's LAN API for the Companion app: pair with the 6-digit code, then control devices, ask, "
        "read history, provision settings, and talk over WebRTC."
    )
    app = FastAPI(title="Companion hub", version="0.1.0", redoc_url=None, description=about)
    app.add_middleware(BodyLimit, limit=MAX_BODY_BYTES)
    app.state.hub = hub
    app.state.pair_limiter = AttemptLimiter()
    app.state.streams = Counter()  # open event streams per app

    install_errors(app, ERRORS)

    @app.get("/health", tags=["platform"], summary="Liveness; no token needed")
    async def health() -> dict[str, Any]:
        return {
            "status": "ok",
            "hub_id": hub.hub_id,
            "name": hub.settings.hub_name,
            "devices": hub.devices is not None,
            "webrtc": hub.webrtc is not None,
        }

    for routes in (router, link_router, webrtc_router, metrics_router, home_router):
        app.include_router(routes)
    _include_cameras(app, hub)

    @app.websocket("/v1/events")
    async def events(ws: WebSocket) -> None:
        """Each turn's events, device changes and the hub's notices, as JSON `HubEvent` messages."""
        await ws.accept()  # then close with a code: a browser sees only "403" for a refused handshake
        try:
            paired = socket_app(ws)
        except CompanionError as err:
            await ws.close(code=4401, reason=err.code)
            return
        streams = app.state.streams
        if streams[paired.id] >= MAX_STREAMS_PER_APP:
            await ws.close(code=4429, reason="TOO_MANY_STREAMS")
            return
        streams[paired.id] += 1
        try:
            await _stream(ws, hub, paired.id)
        finally:
            streams[paired.id] -= 1

    if WEB_APP.is_dir():
        app.mount("/app", StaticFiles(directory=WEB_APP, html=True), name="web-app")

        @app.get("/", include_in_schema=False)
        async def root() -> RedirectResponse:
            return RedirectResponse("/app/")

    _publish_event_schema(app)
    return app


def _include_cameras(app: FastAPI, hub: HubContext) -> None:
    """The cameras' routes (a paired app lists them and asks for a snapshot); 503 VISION_OFF without."""
    try:
        from edge_runtime.vision.api import router as cameras
    except ImportError:  # an install without OpenCV: no camera routes at all
        return
    app.include_router(cameras)
    app.state.vision = hub.cameras


def _publish_event_schema(app: FastAPI) -> None:
    """OpenAPI has no place for a WebSocket's messages: `/v1/events` sends `HubEvent`, published among
    the components, the same models the WebRTC data channel sends (edge_runtime.app_events)."""
    base = app.openapi

    def openapi() -> dict[str, Any]:
        schema = base()
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        if "HubEvent" not in components:
            events = TURN_EVENTS.json_schema(ref_template="#/components/schemas/{model}")
            components.update(events.pop("$defs", {}))
            components["HubEvent"] = {**events, "description": EVENT_ENVELOPE}
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


async def _stream(ws: WebSocket, hub: HubContext, app_id: str) -> None:
    """Events this app may see, until it goes or its token is revoked (then close 4401)."""
    async with hub.bus.subscribe() as sub:
        await ws.send_json({"type": "ready", "hub_id": hub.hub_id, "app": app_id})
        reader = asyncio.create_task(_drain(ws))
        getter: asyncio.Task[dict[str, Any]] | None = None
        try:
            while not reader.done():
                getter = asyncio.create_task(sub.next())
                done, _ = await asyncio.wait({getter, reader}, return_when=asyncio.FIRST_COMPLETED)
                if getter not in done:
                    continue
                event = getter.result()
                if event["type"] == "revoked" and event.get("app") == app_id:
                    await ws.close(code=4401, reason="TOKEN_REVOKED")
                    return
                if visible_to(app_id, event.get("conversation")):
                    await ws.send_json(event)
        except (WebSocketDisconnect, RuntimeError):
            pass
        finally:
            for task in (reader, getter):
                if task is not None and not task.done():
                    task.cancel()
            with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnect, RuntimeError):
                await reader


async def _drain(ws: WebSocket) -> None:
    """Apps only listen here; read until they go, so a vanished client ends the stream."""
    while True:
        message = await ws.receive()
        if message["type"] == "websocket.disconnect":
            return
