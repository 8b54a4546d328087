"""A real aiortc peer playing the phone app: a mic track, a received reply track, the `events` channel.

Tests and the WebRTC benchmark connect it to WebRtcSessions in the same process, over the
machine's non-loopback interface (aioice never offers loopback candidates).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from fractions import Fraction
from typing import Any, ClassVar

import av
import numpy as np
from aiortc import MediaStreamTrack, RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError

from edge_runtime.audio.convert import resample, to_int16

PHONE_RATE = 48000
FRAME = 960  # 20 ms at 48 kHz, what a browser's Opus track carries


class PhoneMic(MediaStreamTrack):
    """48 kHz stereo s16 in real time, like a browser's mic: a queued clip, else silence."""

    kind = "audio"

    def __init__(self) -> None:
        super().__init__()
        self._pcm = np.zeros(0, dtype=np.int16)
        self._clock: float | None = None
        self._pts = 0
        self.ended_at: float | None = None  # perf_counter when the last clip's final sample went out

    def play(self, audio16k: np.ndarray) -> float:
        """Queue 16 kHz float audio; returns its duration in seconds."""
        pcm = to_int16(resample(audio16k, 16000, PHONE_RATE))
        self._pcm = np.concatenate([self._pcm, pcm])
        self.ended_at = None
        return len(audio16k) / 16000

    @property
    def playing(self) -> bool:
        return len(self._pcm) > 0

    async def recv(self) -> av.AudioFrame:
        if self.readyState != "live":
            raise MediaStreamError
        now = time.perf_counter()
        if self._clock is None:
            self._clock = now
        else:
            self._clock += FRAME / PHONE_RATE
            if self._clock > now:
                await asyncio.sleep(self._clock - now)
        chunk, self._pcm = self._pcm[:FRAME], self._pcm[FRAME:]
        if len(chunk) and not len(self._pcm):
            self.ended_at = time.perf_counter()
        if len(chunk) < FRAME:
            chunk = np.concatenate([chunk, np.zeros(FRAME - len(chunk), dtype=np.int16)])
        stereo = np.repeat(chunk, 2).reshape(1, -1)  # packed s16: L R L R ...
        frame = av.AudioFrame.from_ndarray(stereo, format="s16", layout="stereo")
        frame.sample_rate = PHONE_RATE
        frame.pts = self._pts
        frame.time_base = Fraction(1, PHONE_RATE)
        self._pts += FRAME
        return frame


class Phone:
    """The app's side of one session."""

    live: ClassVar[list[Phone]] = []  # not yet closed: a failed test still closes them

    def __init__(self, *, label: str = "events") -> None:
        Phone.live.append(self)
        self.pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        self.mic = PhoneMic()
        self.pc.addTrack(self.mic)
        self.channel = self.pc.createDataChannel(label)
        self.events: list[dict[str, Any]] = []
        self.heard: list[tuple[float, float]] = []  # (arrival perf_counter, peak |sample|) per frame
        self.connect_s: float | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._opened = asyncio.Event()
        self.channel.on("open", self._opened.set)
        self.channel.on("message", self._on_message)
        self.pc.on("track", self._on_track)

    def _on_message(self, raw: str | bytes) -> None:
        self.events.append(json.loads(raw))

    def _on_track(self, track: MediaStreamTrack) -> None:
        self._tasks.append(asyncio.create_task(self._listen(track)))

    async def _listen(self, track: MediaStreamTrack) -> None:
        try:
            while True:
                frame = await track.recv()
                assert isinstance(frame, av.AudioFrame)
                pcm = frame.to_ndarray()
                self.heard.append((time.perf_counter(), float(np.abs(pcm).max()) if pcm.size else 0.0))
        except MediaStreamError:
            return

    async def offer(self) -> str:
        await self.pc.setLocalDescription(await self.pc.createOffer())
        return str(self.pc.localDescription.sdp)

    async def connect(self, sessions: Any, **kwargs: Any) -> str:
        """Offer, answer, and wait for the data channel to open; the session id."""
        started = time.perf_counter()
        answer = await sessions.answer(await self.offer(), "offer", **kwargs)
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=answer.sdp, type="answer"))
        await asyncio.wait_for(self._opened.wait(), 10)
        self.connect_s = time.perf_counter() - started
        return str(answer.session_id)

    def send(self, msg: dict[str, Any] | str) -> None:
        self.channel.send(msg if isinstance(msg, str) else json.dumps(msg))

    def of(self, type_: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e["type"] == type_]

    async def wait_for(
        self, pred: Callable[[dict[str, Any]], bool], timeout: float = 15.0, *, after: int = 0
    ) -> dict[str, Any]:
        """The first event past the first `after` (already received, or arriving in `timeout`) that matches."""
        deadline = time.perf_counter() + timeout
        seen = after
        while True:
            for e in self.events[seen:]:
                if pred(e):
                    return e
            seen = len(self.events)
            if time.perf_counter() > deadline:
                raise AssertionError(f"no matching event in {timeout} s; got {self.events[-20:]}")
            await asyncio.sleep(0.01)

    def loud_frames(self, since: float = 0.0, threshold: float = 1000.0) -> list[float]:
        """Arrival times of received frames with real energy (the reply's voice, not silence)."""
        return [t for t, peak in self.heard if t >= since and peak >= threshold]

    async def close(self) -> None:
        if self in Phone.live:
            Phone.live.remove(self)
        self.mic.stop()
        await self.pc.close()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
