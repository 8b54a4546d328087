"""The composition root: the one place a running hub is assembled from settings.

`hub up`, `companion ask`, the demos and every WebRTC session take a `HubApp` or its parts;
nothing else builds a brain or a device hub. Parts are built once, in order, and each one's
teardown is pushed on one `AsyncExitStack`, so a failure half-way stops what had started and
a normal exit stops everything in reverse."""

from __future__ import annotations

import asyncio
import logging
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from edge_runtime.app_surfaces import Surfaces, log_device_events
from edge_runtime.brain.device_skill import DeviceSkill
from edge_runtime.brain.factory import brain_from, escalator_from
from edge_runtime.brain.memory import LocalMemory
from edge_runtime.brain.router import Brain
from edge_runtime.clock import Clock, SystemClock
from edge_runtime.devices import DeviceHub, device_hub_from
from edge_runtime.engines import Engines
from edge_runtime.hub import VoiceHub, build_hub
from edge_runtime.settings import EdgeSettings
from edge_runtime.skills.builtin import BuiltinSkills
from edge_runtime.skills.timer_store import TimerStore
from edge_runtime.skills.timers import TimerManager
from edge_runtime.synced import apply_to_registry, live_sync, open_replica, with_profile
from edge_runtime.telemetry import Telemetry, start_telemetry
from models.llm import LLM
from models.registry import Registry

if TYPE_CHECKING:
    from edge_runtime.api.context import HubContext as ApiContext
    from edge_runtime.api.server import ApiServer
    from edge_runtime.brain.escalate import Escalator
    from edge_runtime.cloud_notify import SpokenNotifications
    from edge_runtime.ha_presence import Controls, HaPresence
    from edge_runtime.peers import HomePeers
    from edge_runtime.vision import Vision
    from edge_runtime.webrtc import HubParts, SessionOptions
    from sync import Replica

log = logging.getLogger("companion.hub")


@dataclass(frozen=True)
class HubOptions:
    """Which parts this hub runs. The defaults are `hub up`'s; `ask` turns most of them off."""

    devices: bool = True  # the MQTT device layer
    api: bool = False  # the LAN API (and WebRTC, where aiortc is installed)
    sync: bool = True  # the live link to the cloud's sync service, for a linked hub
    client_id: str | None = None  # the device layer's MQTT client id (settings' by default)
    settle_s: float | None = None  # wait this long at most for device discovery before going on
    identity: bool = True  # give the hub its identity if it has none yet (`ask` only reads one)
    vision: bool = True  # the cameras of cameras.toml (none configured: none started)
    peers: bool = True  # the link to the home's other hubs (a one-shot `ask` must not speak as the hub)


class HubApp(Surfaces):
    """A hub's parts, built once. Use as `async with HubApp(...) as app:`; then read the parts.

    With `engines` the voice pipeline is built (`voice`), and its brain is the hub's brain; without,
    a brain alone is built (for text), whose timers ring nowhere."""

    def __init__(
        self,
        settings: EdgeSettings,
        *,
        models: Registry | None = None,
        engines: Engines | None = None,
        llm: LLM | None = None,
        options: HubOptions | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.settings = settings
        self.models = models
        self.engines = engines
        self.llm = llm
        self.options = options or HubOptions()
        self._clock = clock
        self._stack = AsyncExitStack()
        self.stopping = asyncio.Event()  # set on the way out: background loops end on it
        self.hub_id = ""
        self.user_name: str | None = None
        self.device_hub: DeviceHub | None = None
        self.devices: DeviceSkill | None = None  # one intent engine over the device registry, shared
        self.replica: Replica | None = None
        self.memory: LocalMemory | None = None
        self.cloud: Escalator | None = None
        self.voice: VoiceHub | None = None
        self.brain: Brain | None = None
        self.controls: Controls | None = None
        self.presence: HaPresence | None = None
        self.telemetry: Telemetry | None = None
        self.vision: Vision | None = None
        self.peers: HomePeers | None = None
        self.notifications: SpokenNotifications | None = None
        self.lan: ApiServer | None = None
        self._context: ApiContext | None = None

    @property
    def clock(self) -> Clock:
        return self._clock or SystemClock(self.settings.timezone)

    async def __aenter__(self) -> HubApp:
        await self._stack.__aenter__()
        try:
            await self._build()
        except BaseException:
            await self._stack.aclose()
            raise
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, err: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stopping.set()
        await self._stack.__aexit__(kind, err, tb)
        log.info("hub.down")

    # --- assembly, in order: what a later part needs is built before it

    async def _build(self) -> None:
        options, stack = self.options, self._stack
        if options.devices or self.settings.ha_presence_enabled or self.settings.wyoming_enabled:
            self.hub_id = hub_id(self.settings, create=options.identity)
            if self.hub_id and "mqtt_client_id" not in self.settings.model_fields_set:
                # Several hubs share a broker: each needs its own client ids, or the broker drops one for the other.
                self.settings = self.settings.model_copy(update={"mqtt_client_id": f"companion-{self.hub_id}"})
        # The user's synced profile and memory: their language, timezone and name; aliases and rooms.
        self.replica = replica = open_replica(self.settings)
        stack.callback(replica.store.close)
        self.settings, self.user_name = with_profile(self.settings, replica)
        self.memory = LocalMemory(replica.doc)
        if options.sync:
            await self._start_sync(replica)
        if options.devices:
            await self._start_devices(replica)
        if options.devices and options.peers and self.settings.peers_enabled and self.hub_id:
            await self._start_peers()
        self.cloud = escalator_from(self.settings)
        if self.cloud is not None:
            stack.push_async_callback(self.cloud.close)
        if self.engines is not None:
            arbiter = self.peers.arbiter if self.peers is not None else None
            self.voice = self.voice_hub(self.engines, clock=self.clock, arbiter=arbiter)
            self.brain = self.voice.responder.brain
            self._hear_peers(self.voice)
            if self.settings.speak_notifications:
                await self._start_notifications(self.voice)
            timer_store = TimerStore(self.settings.timers_db)
            stack.callback(timer_store.close)
            await self.voice.start()
            stack.push_async_callback(self.voice.stop)
            self.voice.timers.keep_in(timer_store)  # timers set before a restart or a crash ring on time
            # Its turns into the durable outbox, then to the cloud's analytics (stopped before the pipeline).
            self.telemetry = await start_telemetry(self.settings, self.voice, stack)
        else:
            self.brain = self._text_brain()
        self.brain.peers = self.peers
        if self.settings.ha_presence_enabled and self.voice is not None:
            await self._start_presence(self.voice)
        if self.settings.wyoming_enabled and self.engines is not None:
            await self._start_wyoming(self.engines)
        if options.vision and self.engines is not None:
            await self._start_vision()
        if options.api:
            await self._start_api()

    async def _start_sync(self, replica: Replica) -> None:
        link = live_sync(self.settings, replica)
        if link is None:
            return
        syncing = asyncio.create_task(link.run(self.stopping))

        async def stop() -> None:
            self.stopping.set()
            await syncing

        self._stack.push_async_callback(stop)

    async def _start_devices(self, replica: Replica) -> None:
        device_hub = device_hub_from(self.settings, client_id=self.options.client_id)
        self.device_hub = device_hub
        if self.hub_id:  # also after presence is turned off: its retained configs stay on the broker
            ignore_own_entities(device_hub, self.hub_id)
        apply_to_registry(replica, device_hub.registry)

        def remote_change() -> None:  # aliases or room names from another replica, into the registry at once
            apply_to_registry(replica, device_hub.registry)

        replica.on_remote.append(remote_change)
        # Connects in the background and keeps retrying with backoff: voice works without a broker.
        await device_hub.start()
        self._stack.push_async_callback(device_hub.stop)
        watcher = asyncio.create_task(log_device_events(device_hub, device_hub.events()))
        self._stack.callback(watcher.cancel)
        if self.options.settle_s is not None:
            await device_hub.settle(max_s=self.options.settle_s)
        self.devices = DeviceSkill(device_hub, language=self.settings.language)

    # --- parts for others

    def session_parts(self, options: SessionOptions) -> HubParts:
        """What a WebRTC session's own pipeline shares with the hub: devices, LLM, cloud, memory;
        and, with cameras on, the app's video as a camera while the session lives."""
        from edge_runtime.webrtc import HubParts, device_events

        hub, vision = self.device_hub, self.vision
        return HubParts(
            attach=vision.attach if vision is not None else None,
            video=vision.app_camera(options.camera_name, options.camera_room or self.settings.room) if vision else None,
            devices=self.devices,
            llm=self.llm,
            cloud=self.cloud,
            memory=self.memory,
            user_name=self.user_name,
            device_events=device_events(hub) if hub is not None else None,
        )

    def voice_hub(self, engines: Engines, *, clock: Clock, **kw: Any) -> VoiceHub:
        """A voice pipeline on this hub's shared parts (the hub's own, or a WebRTC session's)."""
        return build_hub(
            self.settings,
            engines,
            clock,
            devices=self.devices,
            llm=self.llm,
            cloud=self.cloud,
            memory=self.memory,
            user_name=self.user_name,
            **kw,
        )

    def model_registry(self) -> Registry:
        if self.models is None:
            self.models = Registry()
        return self.models

    def _text_brain(self) -> Brain:
        """For text alone (`companion ask`): no speaker, so a timer set here rings nowhere."""

        async def ring(timer: object, repeat: int) -> None:
            return None

        timers = TimerManager(self.clock, ring)
        self._stack.push_async_callback(timers.close)
        return brain_from(
            self.settings,
            BuiltinSkills(self.clock, timers),
            self.devices,
            self.llm,
            self.cloud,
            self.memory,
            self.user_name,
        )


def isolated(settings: EdgeSettings, root: Path, **update: Any) -> EdgeSettings:
    """The user's settings for a hub of its own under `root` (the demos): no identity, so no cloud and
    no sync; no Home Assistant presence, Wyoming or LAN API; the user's models and voice all the same."""
    return settings.model_copy(
        update={
            "config_dir": root / "config",
            "data_dir": root / "data",
            "room": None,
            "ha_presence_enabled": False,
            "wyoming_enabled": False,
            "api_enabled": False,
            **update,
        }
    )


def hub_id(settings: EdgeSettings, *, create: bool = True) -> str:
    """This hub's id ("" if it has none and `create` is off)."""
    from edge_runtime.identity import HubFiles

    files = HubFiles(settings.config_dir, settings.data_dir)
    identity = files.init()[0] if create else files.identity()  # init: a no-op once it exists
    return identity.hub_id if identity is not None else ""


def ignore_own_entities(device_hub: DeviceHub, own_hub_id: str) -> None:
    """The hub's own entities come back through Home Assistant discovery; they are not devices to control."""
    from device_drivers import HomeAssistant
    from edge_runtime.ha_presence import node_id

    for codec in device_hub.codecs:
        if isinstance(codec, HomeAssistant):
            codec.ignore_nodes.add(node_id(own_hub_id))
