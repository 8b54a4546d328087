"""Opens a WebRTC session for the LAN API. The sessions themselves are built by the composition
root (`edge_runtime.app`): each shares the hub's parts and gets its own pipeline and conversation."""

from __future__ import annotations

from typing import Any

from edge_runtime.api.context import HubContext, WebRtcHost
from edge_runtime.api.voice_events import attach_voice
from edge_runtime.webrtc import SessionOptions


async def open_session(
    hub: HubContext,
    sessions: WebRtcHost,
    offer_sdp: str,
    offer_type: str,
    owner: str,
    *,
    camera: tuple[str | None, str | None] = (None, None),
) -> dict[str, Any]:
    """Answer the offer, and let the session's turns reach the event stream and the history.
    `camera` (name, room): what the app's video track, if it sends one, is called as a camera."""
    options = SessionOptions(client=owner, camera_name=camera[0], camera_room=camera[1])
    answer = await sessions.answer(offer_sdp, offer_type, owner=owner, options=options)
    session = sessions.get(answer.session_id)
    attach_voice(hub, session.hub, source=f"webrtc:{owner}", conversation=f"{owner}:{answer.session_id}")
    return {"sdp": answer.sdp, "type": answer.type, "session": answer.session_id}
