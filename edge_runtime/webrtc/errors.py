"""WebRTC error codes: the LAN API turns each into a JSON error; the data channel sends them as `error`."""

from __future__ import annotations

from models.errors import CompanionError

BAD_SDP = "WEBRTC_BAD_SDP"
TOO_MANY_SESSIONS = "WEBRTC_TOO_MANY_SESSIONS"
UNKNOWN_SESSION = "WEBRTC_UNKNOWN_SESSION"
UNAVAILABLE = "WEBRTC_UNAVAILABLE"
BAD_MESSAGE = "WEBRTC_BAD_MESSAGE"
MESSAGE_TOO_LARGE = "WEBRTC_MESSAGE_TOO_LARGE"
UNKNOWN_MESSAGE = "WEBRTC_UNKNOWN_MESSAGE"
RATE_LIMITED = "WEBRTC_RATE_LIMITED"
FLOODED = "WEBRTC_FLOODED"


class WebRtcError(CompanionError):
    code = "WEBRTC_ERROR"
