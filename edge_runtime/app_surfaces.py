"""The hub's surfaces, started by the composition root (`edge_runtime.app.HubApp`) after its core
parts: its presence in Home Assistant, the Wyoming server, the cameras, and the LAN API with WebRTC.
Each is optional, and a failure to start one is logged while voice goes on."""

from __future__ import annotations

import asyncio
import logging
from contextlib import AsyncExitStack
from typing import TYPE_CHECKING, Any

from edge_runtime.app_events import CameraEvent
from edge_runtime.engines import Engines
from edge_runtime.frames import Interrupt
from edge_runtime.hub import VoiceHub
from edge_runtime.logs import fields
from edge_runtime.settings import EdgeSettings
from edge_runtime.synced import cloud_client
from models.registry import Registry

if TYPE_CHECKING:
    from edge_runtime.api.context import HubContext as ApiContext
    from edge_runtime.api.server import ApiServer
    from edge_runtime.brain.router import Brain
    from edge_runtime.clock import Clock
    from edge_runtime.cloud_notify import SpokenNotifications
    from edge_runtime.devices import DeviceEvent, DeviceHub
    from edge_runtime.ha_presence import Controls, HaPresence
    from edge_runtime.peers import HomePeers
    from edge_runtime.vision import Vision, VisionEvent
    from edge_runtime.webrtc import HubParts, SessionOptions
    from sync import Replica

log = logging.getLogger("companion.hub")


class Surfaces:
    """HubApp's optional surfaces; the attributes are HubApp's own."""

    settings: EdgeSettings
    models: Registry | None
    engines: Engines | None
    hub_id: str
    device_hub: DeviceHub | None
    brain: Brain | None
    voice: VoiceHub | None
    controls: Controls | None
    presence: HaPresence | None
    vision: Vision | None
    replica: Replica | None
    peers: HomePeers | None
    notifications: SpokenNotifications | None
    lan: ApiServer | None
    _context: ApiContext | None
    _stack: AsyncExitStack

    @property
    def clock(self) -> Clock:
        raise NotImplementedError

    def model_registry(self) -> Registry:
        raise NotImplementedError

    def session_parts(self, options: SessionOptions) -> HubParts:
        raise NotImplementedError

    async def _start_peers(self) -> None:
        """The home's other hubs on the broker: wake arbitration, announcements, "stop" anywhere."""
        from edge_runtime.devices import mqtt_credentials
        from edge_runtime.peers import Arbiter, HomePeers, PeerLink, home_file, load_home

        settings = self.settings
        link = PeerLink(
            load_home(home_file(settings.config_dir)),
            self.hub_id,
            settings.mqtt_url,
            room=settings.room,
            name=settings.hub_name,
            credentials=mqtt_credentials(settings),
        )
        await link.start()
        self._stack.push_async_callback(link.stop)
        self.peers = HomePeers(link, Arbiter(link, window_s=settings.peer_window_s, wait_s=settings.peer_wait_s))

    def _hear_peers(self, voice: VoiceHub) -> None:
        """What the other hubs ask of this one's voice: say an announcement, silence a ringing timer."""
        if self.peers is None:
            return
        self.peers.on_announce.append(voice.responder.announce)
        stopping: set[asyncio.Task[None]] = set()

        def stop_ringing() -> None:  # as "stop" said here would: the alerts end, and the one playing now
            if voice.timers.silence():
                task = asyncio.ensure_future(voice.pipeline.push(Interrupt(reason="stop")))
                stopping.add(task)
                task.add_done_callback(stopping.discard)

        self.peers.on_stop.append(stop_ringing)

    async def _start_notifications(self, voice: VoiceHub) -> None:
        """A linked hub says the cloud notifications that ask to be spoken here (edge_runtime/cloud_notify.py)."""
        from edge_runtime.cloud_notify import SpokenNotifications

        client = cloud_client(self.settings)
        identity = client.files.identity()
        if identity is None or not client.files.credentials(client.files.hub_credentials):
            client.http.close()
            return
        self._stack.callback(client.http.close)

        async def token() -> str:
            return await asyncio.to_thread(client.hub_token)

        say = voice.responder.announce
        notes = SpokenNotifications(client.base_url, token, identity.hub_id, self.settings.room, say)
        stop = asyncio.Event()
        task = asyncio.create_task(notes.run(stop))

        async def stopped() -> None:
            stop.set()
            await task

        self._stack.push_async_callback(stopped)
        self.notifications = notes

    async def _start_presence(self, voice: VoiceHub) -> None:
        """The hub in Home Assistant over MQTT: its controls (mute, volume, wake word) and its presence."""
        from edge_runtime.ha_presence import Controls, presence_from

        self.controls = Controls(self.settings, self.models, voice)
        presence = presence_from(self.settings, self.hub_id, self.controls, timers=voice.timers)
        presence.attach(voice.tracer)
        self.presence = await presence.start()
        self._stack.push_async_callback(presence.stop)

    async def _start_vision(self) -> None:
        """The cameras (#20): their events on the apps' stream and in Home Assistant, and the vision
        route in every brain the hub builds. Pictures stay here; the cloud hears text."""
        from edge_runtime.vision import start_vision

        notify = None
        client = cloud_client(self.settings)
        if client.files.credentials(client.files.hub_credentials):  # linked: camera events reach the phone
            from edge_runtime.vision.notify import cloud_notifier

            notify = cloud_notifier(self.settings.cloud_url, client.hub_token)
        self.vision = vision = await start_vision(
            self.settings,
            presence=self.presence,
            registry=self.models,
            on_event=self._camera_event,
            notify=notify,
            replica=self.replica,
        )
        self._stack.push_async_callback(vision.stop)
        if self.brain is not None:
            vision.attach(self.brain)

    def _camera_event(self, event: VisionEvent) -> None:
        if self._context is not None:
            seen = CameraEvent(
                kind=event.kind, camera=event.camera, room=event.room, text=event.text, people=event.people
            )
            self._context.bus.publish_event(seen)

    async def _start_wyoming(self, engines: Engines) -> None:
        try:
            from edge_runtime.wyoming import serve_wyoming
        except ImportError as err:  # an install without the `wyoming` package: say which extra brings it
            log.error("wyoming.unavailable", extra={"error": str(err), "fix": "pip install 'companion[edge]'"})
            return
        assert self.brain is not None
        server = await serve_wyoming(
            self.settings, engines, self.model_registry(), brain=self.brain, hub_id=self.hub_id
        )
        if server is not None:  # None: its port was taken (logged); voice goes on without it
            self._stack.push_async_callback(server.stop)

    async def _start_api(self) -> None:
        """The LAN API shares the hub's brain for text; each WebRTC session gets its own pipeline."""
        from edge_runtime.api import ApiServer, HubContext, attach_voice
        from edge_runtime.identity import HubFiles

        identity, _ = HubFiles(self.settings.config_dir, self.settings.data_dir).init()  # no-op once it exists
        context = HubContext.open(
            self.settings, identity.hub_id, devices=self.device_hub, brain=self.brain, registry=self.models
        )
        if self.voice is not None:
            attach_voice(context, self.voice, source="hub", conversation="hub")
        if self.engines is not None:
            context.webrtc = self._webrtc_sessions(self.engines)
        context.cameras = self.vision.service if self.vision is not None else None
        context.peers = self.peers
        self._context = context
        context.start()
        try:
            self.lan = await ApiServer(context).start()
        except OSError as err:  # the port is taken: voice goes on without the app, and says why
            log.error(
                "api.failed",
                extra={
                    "port": self.settings.api_port,
                    "error": str(err),
                    "fix": "set COMPANION_API_PORT to a free port",
                },
            )
            await context.close()
            self._context = None
            return
        self._stack.push_async_callback(context.close)
        self._stack.push_async_callback(self.lan.stop)
        if self.peers is not None:
            self.peers.link.announce_api(self.lan.lan_url())  # the app finds the home's other hubs through this one

    def _webrtc_sessions(self, engines: Engines) -> Any:
        try:
            from edge_runtime.webrtc import WebRtcSessions
        except ImportError as err:  # the edge extra without aiortc: the rest of the API still works
            log.warning("api.webrtc_unavailable", extra={"error": str(err)})
            return None
        return WebRtcSessions(
            self.settings, engines, self.clock, registry=self.model_registry(), parts=self.session_parts
        )


async def log_device_events(device_hub: DeviceHub, events: asyncio.Queue[DeviceEvent]) -> None:
    while True:
        event = await events.get()
        if event.type != "state":  # state changes are too many to log one by one
            rec = device_hub.registry.records.get(event.device_id)
            log.info(
                f"hub.{event.type}",
                extra=fields({"device": event.device_id, "name": rec.name if rec else None, **event.data}),
            )
