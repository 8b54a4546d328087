"""WebRTC limits and ICE servers, built once from EdgeSettings at the entry point."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from edge_runtime.settings import EdgeSettings


@dataclass(frozen=True)
class IceServer:
    urls: tuple[str, ...]
    username: str | None = None
    credential: str | None = None


@dataclass(frozen=True)
class WebRtcConfig:
    # Empty by default: on a LAN host candidates suffice, and aiortc's own default (a public
    # STUN server) stalls gathering for 5 s on an offline hub. TURN needs username/credential.
    ice_servers: tuple[IceServer, ...] = ()
    max_sessions: int = 4
    max_sessions_per_app: int = 2  # so one app cannot take every session from the others
    output_rate: int = 48000  # Opus's native rate: the encoder then has nothing to resample
    frame_ms: int = 20
    reply_lead_ms: int = 80  # ready reply audio is sent this far ahead of real time (audio.ReplyTrack)
    channel_label: str = "events"
    connect_timeout_s: float = 20.0  # an answered offer that never connects is reclaimed
    media_timeout_s: float = 20.0  # no audio from the peer for this long: it is gone
    max_message_bytes: int = 4096
    messages_per_s: float = 50.0
    message_burst: int = 100
    message_queue: int = 64
    max_dropped_messages: int = 20_000  # then the session is closed: a client that floods is hung up on
    max_buffered_bytes: int = 256 * 1024  # outgoing data-channel backlog before events are dropped

    @classmethod
    def from_settings(cls, settings: EdgeSettings, **overrides: Any) -> WebRtcConfig:
        """ICE servers from `ice_servers` (what the LAN API also tells the app), the session limit."""
        servers = tuple(IceServer((url,)) for url in settings.ice_servers)
        return cls(**{"ice_servers": servers, "max_sessions": settings.webrtc_max_sessions, **overrides})

    def rtc_configuration(self) -> Any:
        from aiortc import RTCConfiguration, RTCIceServer

        servers = [
            RTCIceServer(urls=list(s.urls), username=s.username, credential=s.credential) for s in self.ice_servers
        ]
        return RTCConfiguration(iceServers=servers)
