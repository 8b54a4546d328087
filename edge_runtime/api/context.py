"""What the LAN API serves from: the running hub's parts, handed in by `hub up` (or a test)."""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from common.tomlfile import write_toml
from edge_runtime.api.events import EventBus
from edge_runtime.api.history import History
from edge_runtime.api.link_state import LinkProgress
from edge_runtime.api.pairing import PairingStore
from edge_runtime.app_events import ReplyEvent, device_change
from edge_runtime.brain.context import Conversation
from edge_runtime.brain.router import Brain
from edge_runtime.devices.hub import DeviceHub
from edge_runtime.settings import PROVISIONED, EdgeSettings, set_by_environment
from models.registry import Registry, load_manifest, load_overrides

if TYPE_CHECKING:
    from edge_runtime.vision.service import VisionService
    from edge_runtime.webrtc import SessionOptions, WebRtcAnswer, WebRtcSession

MAX_CONVERSATIONS = 100
REVOCATION_POLL_S = 2.0
MAX_CONVERSATIONS_PER_APP = 8  # so one app cannot push the others' context out
HUB_CONVERSATION = "hub"  # the room's own microphone: every app in the home sees it


def visible_to(app_id: str, conversation: str | None) -> bool:
    """An app sees its own conversations and the hub's, never another app's."""
    return conversation is None or conversation == HUB_CONVERSATION or conversation.startswith(f"{app_id}:")


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
    settings: EdgeSettings
    hub_id: str
    pairing: PairingStore
    history: History
    bus: EventBus = field(default_factory=EventBus)
    devices: DeviceHub | None = None
    brain: Brain | None = None
    webrtc: WebRtcHost | None = None  # edge_runtime.webrtc sessions, when aiortc is installed
    cameras: VisionService | None = None  # when the hub runs cameras
    registry: Registry | None = None
    link: LinkProgress = field(default_factory=LinkProgress)  # linking to a cloud account (POST /v1/link)
    pinned: Callable[[], list[str]] = environment_pins  # settings the environment overrides
    started: float = field(default_factory=time.time)
    conversations: OrderedDict[str, Conversation] = field(default_factory=OrderedDict)
    _watchers: list[asyncio.Task[None]] = field(default_factory=list)
    _cut_off: set[str] = field(default_factory=set)  # revoked apps whose connections were closed

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
            self._watchers.append(asyncio.create_task(self._device_events(self.devices.events())))
        self._watchers.append(asyncio.create_task(self._watch_revocations()))

    async def cut_off(self, app_id: str) -> None:
        """A revoked app loses what it has open too: its event streams and its WebRTC sessions."""
        if app_id in self._cut_off:
            return
        self._cut_off.add(app_id)
        self.bus.publish("revoked", app=app_id)  # its event streams close on this
        if self.webrtc is not None:
            await self.webrtc.close_owned_by(app_id, "token-revoked")

    async def _watch_revocations(self, every_s: float = REVOCATION_POLL_S) -> None:
        """`companion hub revoke` writes the store from another process: notice it here."""
        self._cut_off |= {a.id for a in self.pairing.apps(include_revoked=True) if a.revoked}
        while True:
            await asyncio.sleep(every_s)
            for app in self.pairing.apps(include_revoked=True):
                if app.revoked:
                    await self.cut_off(app.id)

    async def close(self) -> None:
        self.link.cancel()
        for task in self._watchers:
            task.cancel()
        await asyncio.gather(*self._watchers, return_exceptions=True)
        if self.webrtc is not None:
            await self.webrtc.close_all()
        self.pairing.close()

    async def _device_events(self, queue: asyncio.Queue[Any]) -> None:
        while True:
            event = await queue.get()
            self.bus.publish_event(device_change(event))  # as over WebRTC

    def conversation(self, key: str) -> Conversation:
        """Each app (and each conversation it names) keeps its own context: "turn it off" means its last.
        Keys are "<app id>:<name>"; an app over its share loses its own oldest, never another's."""
        if key in self.conversations:
            self.conversations.move_to_end(key)
            return self.conversations[key]
        owner = key.split(":", 1)[0] + ":"
        mine = [k for k in self.conversations if k.startswith(owner)]
        for old in mine[: max(0, len(mine) - MAX_CONVERSATIONS_PER_APP + 1)]:
            del self.conversations[old]
        self.conversations[key] = Conversation()
        while len(self.conversations) > MAX_CONVERSATIONS:
            self.conversations.popitem(last=False)
        return self.conversations[key]

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
        """Merge into <config_dir>/settings.toml (0600); the names that need a restart to apply."""
        from edge_runtime.settings import read_provisioned

        path: Path = self.settings.provisioned_file
        merged = {**read_provisioned(path), **{k: v for k, v in changes.items() if k in PROVISIONED}}
        header = "# Written by the hub's LAN API (provisioning). The environment overrides it.\n"
        write_toml(path, dict(sorted(merged.items())), header=header)
        self.settings = self.settings.model_copy(update=changes)
        return sorted(k for k in changes if k not in ("hub_name", "room"))
