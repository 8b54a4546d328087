"""Audio across the peer connection: the app's mic into the hub, the hub's replies out as a track.

aiortc hands us 48 kHz stereo s16 frames (Opus decoded); the hub wants 16 kHz mono float32 in
blocks of BLOCK (the resampler writes float32 itself). Going out, aiortc's sender pulls `recv()`
and Opus-encodes what it gets, so the track paces itself (20 ms a frame, silence when nothing
plays) like a sound card's clock. Reply audio
that is ready goes out at once, up to `lead_ms` ahead of that clock: a receiver that holds a few
frames before it plays the first (aiortc holds 4) has them at once instead of 80 ms later. When
the reply ends the lead is dropped: the stream's timestamps then run that far ahead of the wall
clock, which a receiver with a playout clock (a browser's NetEQ) absorbs like jitter.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from fractions import Fraction

import av
import numpy as np
from aiortc import MediaStreamTrack
from aiortc.mediastreams import MediaStreamError

from edge_runtime.audio.convert import Reblocker
from edge_runtime.audio.sources import BLOCK, RATE
from edge_runtime.frames import AudioIn
from edge_runtime.pipeline.output import PlaybackOutput
from edge_runtime.pipeline.processor import Pipeline

BLOCK_S = BLOCK / RATE
MAX_LAG_S = 0.5  # fell this far behind (a stalled loop): restart the clock instead of bursting


class MicPump:
    """Resamples the peer's audio to 16 kHz mono and pushes it into the pipeline as it arrives."""

    def __init__(self, track: MediaStreamTrack, pipeline: Pipeline, *, timeout_s: float) -> None:
        self.track = track
        self.pipeline = pipeline
        self.timeout_s = timeout_s
        self.t = 0.0  # stream time of the next block
        self.blocks = 0
        self._resampler = av.AudioResampler(format="flt", layout="mono", rate=RATE)
        self._reblock = Reblocker(BLOCK, np.float32)

    async def run(self) -> str:
        """Until the track ends or goes quiet; returns why (the session then closes)."""
        while True:
            try:
                # asyncio.timeout, not wait_for: on Python 3.11, wait_for drops a cancel that arrives as
                # a frame does, and this loop then outlived the session's close (the close hung).
                async with asyncio.timeout(self.timeout_s):
                    frame = await self.track.recv()
            except MediaStreamError:
                return "track-ended"
            except TimeoutError:
                return "media-timeout"
            if isinstance(frame, av.AudioFrame):
                await self.feed(frame)

    async def feed(self, frame: av.AudioFrame) -> None:
        for out in self._resampler.resample(frame):
            pcm = out.to_ndarray().reshape(-1).astype(np.float32, copy=False)
            for block in self._reblock.push(pcm):
                await self.pipeline.push(AudioIn(block.copy(), t=round(self.t, 3)))
                self.t += BLOCK_S
                self.blocks += 1


class ReplyTrack(MediaStreamTrack):
    """The hub's voice: PlaybackOutput drained 20 ms at a time, in real time, as s16 mono frames."""

    kind = "audio"

    def __init__(self, output: PlaybackOutput, *, frame_ms: int = 20, lead_ms: int = 80) -> None:
        super().__init__()
        self.output = output
        self.rate = output.rate
        self.samples = output.rate * frame_ms // 1000
        self.lead_s = lead_ms / 1000
        self.frames = 0
        self.voiced_frames = 0  # frames that carried reply audio (the rest were silence)
        self._time_base = Fraction(1, self.rate)
        self._clock: float | None = None
        self._pts = 0

    async def recv(self) -> av.AudioFrame:
        if self.readyState != "live":
            raise MediaStreamError
        await self._pace()
        pcm = await self.output.pull(self.samples)
        if len(pcm):
            self.voiced_frames += 1
        if len(pcm) < self.samples:
            pcm = np.concatenate([pcm, np.zeros(self.samples - len(pcm), dtype=np.int16)])
        frame = av.AudioFrame.from_ndarray(pcm.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = self.rate
        frame.pts = self._pts
        frame.time_base = self._time_base
        self._pts += self.samples
        self.frames += 1
        return frame

    async def _pace(self) -> None:
        now = time.perf_counter()
        if self._clock is None:
            self._clock = now
            return
        self._clock += self.samples / self.rate
        if self._clock - now < -MAX_LAG_S:
            self._clock = now
            return
        if self.output.ready.is_set():
            wait = self._clock - self.lead_s - now
            if wait > 0:
                await asyncio.sleep(wait)
            return
        if self._clock > now + self.samples / self.rate:  # the reply ended ahead of the clock:
            self._clock = now  # drop the lead (not given back in silence, which would hold back
            return  # its last frames at a receiver that waits for more, and a barge-in's stop)
        wait = self._clock - now  # silence keeps real time; reply audio arriving cuts the wait short
        if wait > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.output.ready.wait(), wait)


async def drain(track: ReplyTrack) -> None:
    """Plays the reply into nowhere when the peer does not receive audio, so turns still finish."""
    while True:
        try:
            await track.recv()
        except MediaStreamError:
            return
