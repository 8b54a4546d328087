"""What the LAN API serves from: the running hub's parts, handed in by `hub up` (or a test)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from edge_runtime.api.conversations import HUB_CONVERSATION, Conversations, visible_to
from edge_runtime.api.device_relay import DeviceRelay
from edge_runtime.api.events import EventBus
from edge_runtime.api.history import History
from edge_runtime.api.link_state import LinkProgress
from edge_runtime.api.pairing import PairingStore
from edge_runtime.api.provisioning import SettingsFile
from edge_runtime.api.revocations import Revocations
from edge_runtime.app_events import ReplyEvent
from edge_runtime.brain.context import Conversation
from edge_runtime.brain.router import Brain
from edge_runtime.devices.hub import DeviceHub
from edge_runtime.settings import PROVISIONED, EdgeSettings, set_by_environment
from models.registry import Registry, load_manifest, load_overrides

if TYPE_CHECKING:
    from edge_runtime.peers import HomePeers
    from edge_runtime.vision.service import VisionService
    from edge_runtime.webrtc import SessionOptions, WebRtcAnswer, WebRtcSession

__all__ = ["HUB_CONVERSATION", "HubContext", "WebRtcHost", "environment_pins", "visible_to"]


class WebRtcHost(Protocol):
    """What the LAN API uses of `edge_runtime.webrtc.WebRtcSessions`: a Protocol, so the API still
    imports (and its dependencies resolve) on an install without aiortc."""

    def __len__(self) -> int: ...

    def get(self, session_id: str, *, owner: str | None = None) -> WebRtcSession: ...

    async def answer(
        self,
        offer_sdp: str,
        offer_type: str = "offer",
        *,
        owner: str | None = None,
        options: SessionOptions | None = None,
    ) -> WebRtcAnswer: ...

    async def close(self, session_id: str, *, owner: str | None = None) -> None: ...

    async def close_owned_by(self, owner: str, reason: str) -> int: ...

    async def close_all(self) -> None: ...


def environment_pins() -> list[str]:
    """The provisioned settings the hub's environment sets, read when asked (edge_runtime.settings)."""
    return set_by_environment(PROVISIONED)


@dataclass
class HubContext:
    """The hub's parts the routes use, and the small services of the API itself, one job each:
    the apps' conversations, cutting off revoked apps, relaying device events, the settings file."""

    settings: EdgeSettings
    hub_id: str
    pairing: PairingStore
    history: History
    bus: EventBus = field(default_factory=EventBus)
    devices: DeviceHub | None = None
    brain: Brain | None = None
    webrtc: WebRtcHost | None = None  # edge_runtime.webrtc sessions, when aiortc is installed
    cameras: VisionService | None = None  # when the hub runs cameras
    peers: HomePeers | None = None  # the home's other hubs (edge_runtime/peers)
    registry: Registry | None = None
    link: LinkProgress = field(default_factory=LinkProgress)  # linking to a cloud account (POST /v1/link)
    pinned: Callable[[], list[str]] = environment_pins  # settings the environment overrides
    started: float = field(default_factory=time.time)
    conversations: Conversations = field(default_factory=Conversations)
    revocations: Revocations = field(init=False)
    relay: DeviceRelay = field(init=False)
    settings_file: SettingsFile = field(init=False)
    _watchers: list[asyncio.Task[None]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.revocations = Revocations(self.pairing, self.bus, lambda: self.webrtc)
        self.relay = DeviceRelay(self.bus)
        self.settings_file = SettingsFile(self.settings.provisioned_file)

    @classmethod
    def open(cls, settings: EdgeSettings, hub_id: str, **parts: Any) -> HubContext:
        path = settings.data_dir / "api.sqlite3"
        pairing = PairingStore(path, code_ttl_s=settings.pairing_code_ttl_s, max_failures=settings.pairing_max_failures)
        return cls(settings, hub_id, pairing, History(pairing.db), **parts)

    def model_registry(self) -> Registry:
        if self.registry is None:
            self.registry = Registry(load_manifest(), load_overrides(self.settings.model_overrides_file))
        return self.registry

    def start(self) -> None:
        if self.devices is not None:
            self._watchers.append(asyncio.create_task(self.relay.run(self.devices.events())))
        self._watchers.append(asyncio.create_task(self.revocations.watch()))

    async def close(self) -> None:
        self.link.cancel()
        for task in self._watchers:
            task.cancel()
        await asyncio.gather(*self._watchers, return_exceptions=True)
        if self.webrtc is not None:
            await self.webrtc.close_all()
        self.pairing.close()

    async def cut_off(self, app_id: str) -> None:
        """A revoked app loses what it has open too: its event streams and its WebRTC sessions."""
        await self.revocations.cut_off(app_id)

    def conversation(self, key: str) -> Conversation:
        """The context of "<app id>:<name>" (edge_runtime/api/conversations.py)."""
        return self.conversations.get(key)

    def record_turn(self, *, source: str, conversation: str, text: str, result: dict[str, Any]) -> dict[str, Any]:
        turn = self.history.add(
            source=source,
            conversation=conversation,
            text=text,
            reply=result["reply"],
            route=result.get("route"),
            intent=result.get("intent"),
            actions=result.get("actions"),
        )
        reply = ReplyEvent(
            text=result["reply"],
            heard=text,
            route=result.get("route"),
            intent=result.get("intent"),
            actions=result.get("actions") or None,
        )
        self.bus.publish_event(reply, conversation=conversation, source=source, turn=turn["id"])
        return turn

    def save_settings(self, changes: dict[str, Any]) -> list[str]:
        """Merge into <config_dir>/settings.toml (0600), and apply to the settings served from here;
        the names that need a restart to apply."""
        restart = self.settings_file.merge(changes)
        self.settings = self.settings.model_copy(update=changes)
        return restart
