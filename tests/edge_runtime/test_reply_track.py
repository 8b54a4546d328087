"""The WebRTC reply track's clock (unit test of edge_runtime/webrtc/audio.py with a real playback
buffer): silence in real time; reply audio, once ready, sent up to the lead ahead of that clock;
the lead dropped when the reply ends."""

from __future__ import annotations

import asyncio
import time

import numpy as np

from edge_runtime.frames import TTSAudio, TTSStarted, TTSStopped
from edge_runtime.pipeline.output import PlaybackOutput
from edge_runtime.pipeline.processor import DOWN
from edge_runtime.trace import Tracer
from edge_runtime.webrtc.audio import ReplyTrack

RATE = 48000
FRAME = RATE * 20 // 1000


async def _times(track: ReplyTrack, n: int) -> list[float]:
    """When each of the next n frames was handed to the sender, in ms from the first call."""
    started = time.perf_counter()
    out = []
    for _ in range(n):
        await track.recv()
        out.append(1000 * (time.perf_counter() - started))
    return out


def test_ready_reply_audio_leads_the_clock_and_the_lead_is_dropped_after() -> None:
    async def scenario() -> tuple[list[float], list[float], list[float], int]:
        output = PlaybackOutput(RATE, Tracer())
        track = ReplyTrack(output, frame_ms=20, lead_ms=80)
        silence = await _times(track, 6)  # the clock starts; silence goes at 20 ms a frame
        await output.process_frame(TTSStarted(), DOWN)
        await output.process_frame(TTSAudio(np.full(FRAME * 10, 1000, dtype=np.int16), RATE), DOWN)
        reply = await _times(track, 10)
        await output.process_frame(TTSStopped(), DOWN)
        after = await _times(track, 6)
        return silence, reply, after, track.voiced_frames

    silence, reply, after, voiced = asyncio.run(scenario())
    assert voiced == 10
    assert silence[-1] > 80  # 5 paced frames after the first: about 100 ms
    # The first 4-5 frames of the reply go at once (the lead), the rest at 20 ms a frame.
    assert reply[3] < 15, reply
    assert 100 < reply[-1] < 190, reply
    # The reply ended ahead of the clock: the lead is dropped, not given back as a pause.
    assert after[0] < 15 and 70 < after[-1] < 150, after


def test_reply_audio_arriving_cuts_a_silent_frames_wait_short() -> None:
    async def scenario() -> float:
        output = PlaybackOutput(RATE, Tracer())
        track = ReplyTrack(output, frame_ms=20, lead_ms=0)
        await track.recv()  # the clock starts: the next silent frame is due in 20 ms

        async def speak_soon() -> None:
            await asyncio.sleep(0.005)
            await output.process_frame(TTSAudio(np.full(FRAME, 1000, dtype=np.int16), RATE), DOWN)

        started = time.perf_counter()
        task = asyncio.create_task(speak_soon())
        frame = await track.recv()
        waited = 1000 * (time.perf_counter() - started)
        await task
        assert np.abs(frame.to_ndarray()).max() == 1000  # the frame that went was the reply's
        return waited

    assert asyncio.run(scenario()) < 15
