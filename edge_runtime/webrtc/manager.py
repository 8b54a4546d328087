"""The hub's WebRTC sessions: offer in, answer out, one voice pipeline per app connection.

The LAN API mounts this behind `POST /v1/webrtc/offer`: it calls `answer()` with the app's SDP
and returns the answer SDP and session id; a WebRtcError becomes a JSON error with its code.
"""

from __future__ import annotations

import asyncio
import inspect
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from edge_runtime.brain.device_skill import DeviceSkill
from edge_runtime.brain.escalate import Escalator
from edge_runtime.brain.memory import LocalMemory
from edge_runtime.brain.router import Brain
from edge_runtime.clock import Clock
from edge_runtime.engines import Engines
from edge_runtime.hub import build_hub
from edge_runtime.settings import EdgeSettings
from edge_runtime.trace import Tracer
from edge_runtime.webrtc import errors
from edge_runtime.webrtc.config import WebRtcConfig
from edge_runtime.webrtc.errors import WebRtcError
from edge_runtime.webrtc.session import WebRtcSession
from models.llm import LLM
from models.registry import Registry


@dataclass(frozen=True)
class SessionOptions:
    """What the app (or the LAN API's auth) says about this connection."""

    user_id: str | None = None
    user_name: str | None = None
    client: str | None = None  # the app's own label, for logs
    camera_name: str | None = None  # what the app's video track is called as a camera ("phone camera")
    camera_room: str | None = None  # and where it is (the hub's own room if it does not say)
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class HubParts:
    """The shared pieces a session's brain uses: the LAN API fills these in."""

    devices: DeviceSkill | None = None
    llm: LLM | None = None
    cloud: Escalator | None = None
    memory: LocalMemory | None = None
    user_name: str | None = None
    device_events: AsyncIterator[Any] | None = None  # e.g. events.device_events(device_hub)
    attach: Callable[[Brain], None] | None = None  # adds the hub's own routes (the cameras') to the session's brain
    video: Callable[[Any, str], Coroutine[Any, Any, None]] | None = None  # (track, session id): the app's camera


PartsFactory = Callable[[SessionOptions], HubParts | Awaitable[HubParts]]


class WebRtcAnswer(NamedTuple):
    sdp: str
    session_id: str
    type: str = "answer"


class WebRtcSessions:
    """Owns every live session; `max_sessions` bounds the CPU the app side can claim."""

    def __init__(
        self,
        settings: EdgeSettings,
        engines: Engines,
        clock: Clock,
        *,
        registry: Registry | None = None,
        config: WebRtcConfig | None = None,
        parts: PartsFactory | None = None,
        session_engines: Callable[[], Engines] | None = None,
    ) -> None:
        if registry is None and session_engines is None:
            raise ValueError("pass the model registry (or session_engines) to give each session its own wake/VAD")
        self.settings = settings
        self.engines = engines
        self.clock = clock
        self.registry = registry
        self.config = config or WebRtcConfig.from_settings(settings)
        self._parts = parts
        self._session_engines = session_engines or self._fresh_engines
        self._sessions: dict[str, WebRtcSession] = {}
        self._opening: Counter[str | None] = Counter()  # sessions still being answered, per owner
        self._spare: list[Engines] = []  # wake/VAD instances of closed sessions, reset and reused

    def __len__(self) -> int:
        return len(self._sessions)

    def __contains__(self, session_id: object) -> bool:
        return session_id in self._sessions

    def get(self, session_id: str, *, owner: str | None = None) -> WebRtcSession:
        """The session; with `owner`, only if that app opened it (another app's id is "unknown")."""
        session = self._sessions.get(session_id)
        if session is None or (owner is not None and session.owner != owner):
            raise WebRtcError(f"no WebRTC session {session_id[:64]!r}", code=errors.UNKNOWN_SESSION)
        return session

    @property
    def sessions(self) -> list[WebRtcSession]:
        return list(self._sessions.values())

    async def answer(
        self,
        offer_sdp: str,
        offer_type: str = "offer",
        *,
        owner: str | None = None,
        options: SessionOptions | None = None,
    ) -> WebRtcAnswer:
        """Answer an app's offer (non-trickle: every candidate is in the answer)."""
        if len(self._sessions) + self._opening.total() >= self.config.max_sessions:
            raise WebRtcError(
                f"the hub already has {self.config.max_sessions} WebRTC sessions",
                code=errors.TOO_MANY_SESSIONS,
                hint="close another app's session, or raise COMPANION_WEBRTC_MAX_SESSIONS",
            )
        mine = sum(1 for s in self._sessions.values() if s.owner == owner) + self._opening[owner]
        if owner is not None and mine >= self.config.max_sessions_per_app:
            raise WebRtcError(
                f"this app already has {mine} WebRTC sessions on the hub",
                code=errors.TOO_MANY_SESSIONS,
                hint="hang up one of this app's sessions first",
            )
        _check_offer(offer_sdp, offer_type)
        from aiortc import RTCPeerConnection

        self._opening[owner] += 1
        try:
            options = options or SessionOptions()
            parts = await self._hub_parts(options)
            engines = self._spare.pop() if self._spare else await asyncio.to_thread(self._session_engines)
            session_id = uuid.uuid4().hex
            hub = build_hub(
                self.settings,
                engines,
                self.clock,
                output_rate=self.config.output_rate,
                tracer=Tracer(),
                devices=parts.devices,
                llm=parts.llm,
                cloud=parts.cloud,
                memory=parts.memory,
                user_name=parts.user_name or options.user_name,
            )
            hub.responder.conversation.id = session_id
            if parts.attach is not None:
                parts.attach(hub.responder.brain)
            session = WebRtcSession(
                session_id,
                RTCPeerConnection(self.config.rtc_configuration()),
                hub,
                self.config,
                device_events=parts.device_events,
            )
            session.owner = owner
            if (video := parts.video) is not None:
                session.on_video = lambda track: video(track, session_id)
            session.on_closed = lambda s: self._closed(s, engines)
            try:
                sdp = await session.open(offer_sdp, offer_type)
            except BaseException as err:
                await session.close("bad-offer")
                if isinstance(err, WebRtcError | asyncio.CancelledError):
                    raise
                raise WebRtcError(f"could not answer the offer: {_why(err)}", code=errors.BAD_SDP) from err
            self._sessions[session_id] = session
            return WebRtcAnswer(sdp, session_id)
        finally:
            self._opening[owner] -= 1

    async def close(self, session_id: str, *, owner: str | None = None) -> None:
        session = self.get(session_id, owner=owner)
        await session.close("closed-by-hub")

    async def close_owned_by(self, owner: str, reason: str) -> int:
        """Hang up every session an app opened (its token was revoked); how many there were."""
        owned = [s for s in self.sessions if s.owner == owner]
        await asyncio.gather(*(s.close(reason) for s in owned), return_exceptions=True)
        return len(owned)

    async def close_all(self) -> None:
        await asyncio.gather(*(s.close("hub-stopping") for s in self.sessions), return_exceptions=True)
        for s in self.sessions:
            await s.wait_closed()

    async def wait_closed(self, session_id: str) -> None:
        session = self._sessions.get(session_id)
        if session is not None:
            await session.wait_closed()

    async def _hub_parts(self, options: SessionOptions) -> HubParts:
        if self._parts is None:
            return HubParts()
        made = self._parts(options)
        return await made if inspect.isawaitable(made) else made

    async def prewarm(self, count: int = 1) -> None:
        """Load wake/VAD for `count` sessions ahead (~0.25 s each), so the first connect is quicker."""
        while len(self._spare) < min(count, self.config.max_sessions):
            self._spare.append(await asyncio.to_thread(self._session_engines))

    def _fresh_engines(self) -> Engines:
        """Own wake word and VAD state (cheap), the shared STT and TTS (heavy, and thread-safe)."""
        from models.vad import SileroVad
        from models.wake import OpenWakeWord

        assert self.registry is not None
        s = self.settings
        wake = OpenWakeWord(self.registry, (s.wake_word,), threshold=s.wake_threshold)
        return Engines(wake, SileroVad(self.registry), SileroVad(self.registry), self.engines.stt, self.engines.tts)

    def _closed(self, session: WebRtcSession, engines: Engines) -> None:
        self._sessions.pop(session.id, None)
        engines.wake.reset()
        engines.vad.reset()
        engines.barge_vad.reset()
        if len(self._spare) < self.config.max_sessions:
            self._spare.append(engines)


def _check_offer(sdp: Any, kind: Any) -> None:
    """Reject what is plainly not an SDP offer before any model or socket is touched."""
    if kind != "offer":
        raise WebRtcError(f"expected an SDP offer, got type {str(kind)[:20]!r}", code=errors.BAD_SDP)
    if not isinstance(sdp, str) or not sdp.startswith("v=0") or "\nm=" not in sdp or len(sdp) > 64 * 1024:
        raise WebRtcError("the offer is not a valid SDP (v=0 ... m= lines, at most 64 KiB)", code=errors.BAD_SDP)
    from aiortc.sdp import SessionDescription

    try:
        SessionDescription.parse(sdp)
    except Exception as err:
        raise WebRtcError(f"the offer is not a valid SDP: {_why(err)}", code=errors.BAD_SDP) from None


def _why(err: BaseException) -> str:
    return str(err) or type(err).__name__  # aiortc's parser fails with bare asserts
