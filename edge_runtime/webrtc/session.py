"""One app connection: a peer connection, its own voice pipeline and conversation, and its tasks.

Everything the session starts is tracked, so `close()` (peer gone, failed, timed out, or asked)
leaves no task, track or peer connection behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any

from aiortc import MediaStreamTrack, RTCDataChannel, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError

from edge_runtime.app_events import Phase, StateEvent
from edge_runtime.frames import EndOfStream, Interrupt, StartListening, Transcript
from edge_runtime.hub import VoiceHub
from edge_runtime.pipeline.endpoint import Endpointer
from edge_runtime.pipeline.processor import DOWN
from edge_runtime.webrtc import errors
from edge_runtime.webrtc.audio import MicPump, ReplyTrack, drain
from edge_runtime.webrtc.config import WebRtcConfig
from edge_runtime.webrtc.errors import WebRtcError
from edge_runtime.webrtc.events import forward_devices
from edge_runtime.webrtc.messages import Chat, InterruptMsg, Ping, Ptt, TokenBucket, error, event, parse

log = logging.getLogger(__name__)


class WebRtcSession:
    def __init__(
        self,
        session_id: str,
        pc: RTCPeerConnection,
        hub: VoiceHub,
        config: WebRtcConfig,
        *,
        device_events: AsyncIterator[Any] | None = None,
    ) -> None:
        self.id = session_id
        self.pc = pc
        self.hub = hub
        self.config = config
        self.track = ReplyTrack(hub.output, frame_ms=config.frame_ms, lead_ms=config.reply_lead_ms)
        self.channel: RTCDataChannel | None = None
        self.mic: MicPump | None = None
        self.video: MediaStreamTrack | None = None  # the app's camera, if it sends one (the first only)
        self.on_video: Callable[[MediaStreamTrack], Coroutine[Any, Any, None]] | None = None  # turns it into a camera
        self.connected = asyncio.Event()
        self.closed = asyncio.Event()
        self.close_reason: str | None = None
        self.created = time.perf_counter()
        self.connect_s: float | None = None
        self.stats = {"messages": 0, "dropped": 0, "bad": 0, "events_sent": 0, "events_dropped": 0}
        self._device_events = device_events
        self._inbox: asyncio.Queue[str | bytes] = asyncio.Queue(maxsize=config.message_queue)
        self._bucket = TokenBucket(config.messages_per_s, config.message_burst)
        self._tasks: set[asyncio.Task[Any]] = set()
        self._closer: asyncio.Task[None] | None = None
        self._last_drop_report = 0.0
        self.on_closed: Callable[[WebRtcSession], None] | None = None
        self.owner: str | None = None  # the paired app that opened it (the LAN API's auth)
        self._endpointer = next((p for p in hub.pipeline.processors if isinstance(p, Endpointer)), None)
        hub.events.listeners.append(lambda e: self.send(e.wire()))

    # --- set-up

    async def open(self, offer_sdp: str, offer_type: str) -> str:
        """Apply the offer, attach our reply track, gather every candidate; the answer SDP."""
        self.pc.on("track", self._on_track)
        self.pc.on("datachannel", self._on_channel)
        self.pc.on("connectionstatechange", self._on_state)
        await self.hub.start()
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=offer_sdp, type=offer_type))
        sends = False
        for transceiver in self.pc.getTransceivers():
            if transceiver.kind == "audio" and transceiver.sender.track is None and not sends:
                self.pc.addTrack(self.track)
                sends = True
        answer = await self.pc.createAnswer()
        await self.pc.setLocalDescription(answer)  # aiortc gathers every candidate here: non-trickle
        if not any(
            t.kind == "audio" and t.currentDirection in ("sendrecv", "sendonly") for t in self.pc.getTransceivers()
        ):
            self._spawn(drain(self.track), "drain")  # nobody listens: still play replies out
        self._spawn(self._serve(), "inbox")
        self._spawn(self._watch_connect(), "connect-watchdog")
        return str(self.pc.localDescription.sdp)

    def _spawn(self, coro: Coroutine[Any, Any, Any], name: str) -> asyncio.Task[Any]:
        task = asyncio.create_task(coro, name=f"webrtc-{self.id[:8]}-{name}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def _on_track(self, track: MediaStreamTrack) -> None:
        if track.kind == "audio" and self.mic is None:
            self.mic = MicPump(track, self.hub.pipeline, timeout_s=self.config.media_timeout_s)
            self._spawn(self._pump(self.mic), "mic")
        elif track.kind == "video" and self.video is None and self.on_video is not None:
            self.video = track  # a camera while the session lives: close() cancels it, and the camera goes
            self._spawn(self.on_video(track), "camera")
        else:  # no cameras, a second video or a second mic: consume it so aiortc's receive queue cannot grow
            self._spawn(_discard(track), "discard")

    async def _pump(self, mic: MicPump) -> None:
        reason = await mic.run()
        self.request_close(reason)

    def _on_channel(self, channel: RTCDataChannel) -> None:
        if channel.label != self.config.channel_label or self.channel is not None:
            channel.close()
            return
        self.channel = channel
        channel.on("message", self._on_message)
        self.send(event("session", session_id=self.id, output_rate=self.track.rate))
        if self._device_events is not None:  # only now is there somewhere to send them
            self._spawn(forward_devices(self._device_events, self.send), "devices")

    def _on_state(self) -> None:
        state = self.pc.connectionState
        if state == "connected" and not self.connected.is_set():
            self.connect_s = time.perf_counter() - self.created
            self.connected.set()
        elif state in ("failed", "closed"):
            self.request_close(f"peer-{state}")

    async def _watch_connect(self) -> None:
        try:
            await asyncio.wait_for(self.connected.wait(), self.config.connect_timeout_s)
        except TimeoutError:
            self.request_close("connect-timeout")

    # --- app -> hub

    def _on_message(self, raw: str | bytes) -> None:
        """aiortc's callback: admit or drop at once; a flood never queues past `message_queue`."""
        self.stats["messages"] += 1
        if not self._bucket.take() or self._inbox.full():
            self.stats["dropped"] += 1
            if self.stats["dropped"] >= self.config.max_dropped_messages:  # sustained abuse: hang up
                self.send(error(WebRtcError("too many messages: closing", code=errors.FLOODED)))
                self.request_close("flood")
                return
            now = time.monotonic()
            if now - self._last_drop_report >= 1.0:
                self._last_drop_report = now
                err = WebRtcError("too many messages; some were dropped", code=errors.RATE_LIMITED)
                self.send(error(err, dropped=self.stats["dropped"]))
            return
        self._inbox.put_nowait(raw)

    async def _serve(self) -> None:
        while True:
            raw = await self._inbox.get()
            try:
                await self.handle(parse(raw, max_bytes=self.config.max_message_bytes))
            except WebRtcError as err:
                self.stats["bad"] += 1
                self.send(error(err))
            except Exception as err:  # a bug in one message must not end the session
                log.exception("webrtc.message_failed", extra={"session": self.id})
                self.send(error(WebRtcError(f"could not handle the message: {err}")))

    async def handle(self, msg: Chat | Ptt | InterruptMsg | Ping) -> None:
        if isinstance(msg, Ping):
            self.send(event("pong", t=msg.t, server_t=time.time()))
        elif isinstance(msg, Chat):
            await self.chat(msg.text)
        elif isinstance(msg, InterruptMsg):
            await self.interrupt("client")
        elif msg.pressed:
            await self.interrupt("ptt")
            await self.hub.pipeline.push(StartListening(hold=True))  # held: only the release ends the turn
            self.send(StateEvent(state=Phase.LISTENING, reason="ptt").wire())
        elif self._endpointer is not None and self._endpointer.active:
            await self.hub.pipeline.push(EndOfStream())  # release: the endpointer cuts the turn now

    async def chat(self, text: str) -> None:
        """Typed text enters after STT: same brain, same conversation, reply as text and audio."""
        await self.interrupt("chat")
        self.send(StateEvent(state=Phase.THINKING, reason="chat").wire())
        await self.hub.responder.queue_frame(Transcript(text, typed=True), DOWN)

    async def interrupt(self, reason: str) -> None:
        """Stops the reply being spoken or prepared (only if there is one) and any ringing timer."""
        self.hub.timers.silence()
        if not (self.hub.output.playing or self.hub.pipeline.busy()):
            return
        self.hub.tracer.mark("interrupt", reason=reason)
        await self.hub.pipeline.push(Interrupt(reason=reason))

    # --- hub -> app

    def send(self, msg: dict[str, Any]) -> None:
        """Best effort and never blocking: past `max_buffered_bytes` of backlog, events are dropped."""
        channel = self.channel
        if channel is None or channel.readyState != "open" or channel.bufferedAmount > self.config.max_buffered_bytes:
            self.stats["events_dropped"] += 1
            return
        try:
            channel.send(json.dumps(msg, default=str))
            self.stats["events_sent"] += 1
        except Exception:  # the transport went away under us
            self.stats["events_dropped"] += 1

    # --- tear-down

    def request_close(self, reason: str) -> None:
        """Close from a callback or from one of our own tasks (which close() must not await)."""
        if self._closer is None and not self.closed.is_set():
            self._closer = asyncio.create_task(self.close(reason), name=f"webrtc-{self.id[:8]}-close")

    async def close(self, reason: str = "closed") -> None:
        if self.close_reason is not None:
            await self.closed.wait()
            return
        self.close_reason = reason
        try:
            with contextlib.suppress(Exception):  # cancels speculative STT and the reply in flight
                await self.hub.pipeline.push(Interrupt(reason="closed"))
            tasks = [t for t in self._tasks if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            self.track.stop()
            await self.hub.stop()
            await self.pc.close()
        finally:
            self.hub.tracer.listeners.clear()
            self.channel = None
            self.closed.set()
            if self.on_closed is not None:
                self.on_closed(self)
            log.info("webrtc.closed", extra={"session": self.id, "reason": reason})

    async def wait_closed(self) -> None:
        await self.closed.wait()
        if self._closer is not None:
            await self._closer


async def _discard(track: MediaStreamTrack) -> None:
    with contextlib.suppress(MediaStreamError):
        while True:
            await track.recv()
