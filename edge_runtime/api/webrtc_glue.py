"""Builds the hub's WebRTC sessions for the LAN API: every session shares the device layer, the
LLM, the cloud link and the memory, and gets its own pipeline, conversation, and device events."""

from __future__ import annotations

from typing import Any

from edge_runtime.api.context import HubContext
from edge_runtime.api.voice_events import attach_voice
from edge_runtime.brain.escalate import Escalator
from edge_runtime.brain.memory import LocalMemory
from edge_runtime.clock import SystemClock
from edge_runtime.devices.hub import DeviceHub
from edge_runtime.engines import Engines
from edge_runtime.settings import EdgeSettings
from edge_runtime.webrtc import HubParts, SessionOptions, WebRtcSessions, device_events
from models.llm import LLM
from models.registry import Registry


def webrtc_sessions(settings: EdgeSettings, engines: Engines, registry: Registry, *, devices: DeviceHub | None,
                    llm: LLM | None, cloud: Escalator | None, memory: LocalMemory | None,
                    user_name: str | None) -> WebRtcSessions:  # fmt: skip
    from edge_runtime.brain.device_skill import DeviceSkill

    def parts(options: SessionOptions) -> HubParts:
        skill = DeviceSkill(devices, language=settings.language) if devices is not None else None
        return HubParts(devices=skill, llm=llm, cloud=cloud, memory=memory, user_name=user_name,
                        device_events=device_events(devices) if devices is not None else None)  # fmt: skip

    return WebRtcSessions(settings, engines, SystemClock(settings.timezone), registry=registry, parts=parts)


async def open_session(hub: HubContext, offer_sdp: str, offer_type: str, owner: str) -> dict[str, Any]:
    """Answer the offer, and let the session's turns reach the event stream and the history."""
    answer = await hub.webrtc.answer(offer_sdp, offer_type, owner=owner, options=SessionOptions(client=owner))
    session = hub.webrtc.get(answer.session_id)
    attach_voice(hub, session.hub.tracer, source=f"webrtc:{owner}", conversation=f"{owner}:{answer.session_id}")
    return {"sdp": answer.sdp, "type": answer.type, "session": answer.session_id}
