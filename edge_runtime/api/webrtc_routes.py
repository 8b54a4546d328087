"""WebRTC signalling over the LAN API: the app posts an SDP offer and gets the hub's answer
(non-trickle: candidates are gathered first). Audio and a data channel follow, peer to peer."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from edge_runtime.api.auth import App, Hub
from edge_runtime.api.deps import Sessions

router = APIRouter(prefix="/v1/webrtc", tags=["webrtc"])


class Offer(BaseModel):
    sdp: str = Field(min_length=1, max_length=100_000)
    type: Literal["offer"] = "offer"


@router.get("/config", summary="ICE servers for the app's RTCPeerConnection (empty on a LAN)")
async def config(hub: Hub, _: App) -> dict[str, Any]:
    return {"iceServers": [{"urls": url} for url in hub.settings.ice_servers]}


@router.post("/offer", summary="Start a voice session: SDP offer in, SDP answer out")
async def offer(body: Offer, hub: Hub, me: App, sessions: Sessions) -> dict[str, Any]:
    from edge_runtime.api.webrtc_glue import open_session

    return await open_session(hub, sessions, body.sdp, body.type, me.id)


@router.delete("/{session_id}", summary="End a voice session")
async def close(session_id: str, me: App, sessions: Sessions) -> dict[str, Any]:
    await sessions.close(session_id, owner=me.id)
    return {"closed": session_id}
