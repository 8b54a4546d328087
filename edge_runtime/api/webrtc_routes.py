"""WebRTC signalling over the LAN API: the app posts an SDP offer and gets the hub's answer
(non-trickle: candidates are gathered first). Audio and a data channel follow, peer to peer."""

from __future__ import annotations

import re
from typing import Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field, field_validator

from edge_runtime.api.auth import App, Hub
from edge_runtime.api.deps import Sessions

router = APIRouter(prefix="/v1/webrtc", tags=["webrtc"])


class CameraSpec(BaseModel):
    """What the app calls its video track as the hub's camera, and where it is."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field("phone camera", min_length=1, max_length=40)
    room: str | None = Field(None, min_length=1, max_length=40)  # the hub's own room if not said

    @field_validator("name", "room")
    @classmethod
    def _named(cls, value: str | None) -> str | None:
        if value is not None and not re.search(r"[a-z0-9]", value.lower()):  # a camera's slug is made of these
            raise ValueError("needs a letter (a-z) or a digit")
        return value


class Offer(BaseModel):
    sdp: str = Field(min_length=1, max_length=100_000)
    type: Literal["offer"] = "offer"
    camera: CameraSpec | None = None  # a video track in the offer becomes a camera while the session lives


@router.get("/config", summary="ICE servers for the app's RTCPeerConnection (empty on a LAN)")
async def config(hub: Hub, _: App) -> dict[str, Any]:
    return {"iceServers": [{"urls": url} for url in hub.settings.ice_servers]}


@router.post("/offer", summary="Start a voice (and camera) session: SDP offer in, SDP answer out")
async def offer(body: Offer, hub: Hub, me: App, sessions: Sessions) -> dict[str, Any]:
    from edge_runtime.api.webrtc_glue import open_session

    camera = body.camera or CameraSpec()
    return await open_session(hub, sessions, body.sdp, body.type, me.id, camera=(camera.name, camera.room))


@router.delete("/{session_id}", summary="End a voice session")
async def close(session_id: str, me: App, sessions: Sessions) -> dict[str, Any]:
    await sessions.close(session_id, owner=me.id)
    return {"closed": session_id}
