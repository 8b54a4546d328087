"""The hub's WebRTC voice sessions (aiortc): mic and reply audio, plus an `events` data channel.

Mount it behind the LAN API:

    sessions = WebRtcSessions(settings, engines, clock, registry=registry, parts=make_parts)
    answer = await sessions.answer(offer.sdp, offer.type, options=SessionOptions(user_id=...))
    return {"sdp": answer.sdp, "type": answer.type, "session_id": answer.session_id}

and `await sessions.close_all()` on shutdown. Errors are WebRtcError with a WEBRTC_* code.
"""

from edge_runtime.webrtc.config import IceServer, WebRtcConfig
from edge_runtime.webrtc.errors import WebRtcError
from edge_runtime.webrtc.events import device_events
from edge_runtime.webrtc.manager import HubParts, PartsFactory, SessionOptions, WebRtcAnswer, WebRtcSessions
from edge_runtime.webrtc.session import WebRtcSession

__all__ = [
    "HubParts",
    "IceServer",
    "PartsFactory",
    "SessionOptions",
    "WebRtcAnswer",
    "WebRtcConfig",
    "WebRtcError",
    "WebRtcSession",
    "WebRtcSessions",
    "device_events",
]
