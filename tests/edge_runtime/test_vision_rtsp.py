"""An RTSP camera (#20): ffmpeg publishes H.264 to Debian's rtsp-server-perl on loopback, the hub reads
it through OpenCV's FFmpeg backend, and motion in the zone raises the event."""

from __future__ import annotations

import asyncio
import time

from edge_runtime.vision.config import CameraConfig
from edge_runtime.vision.events import VisionEvent
from edge_runtime.vision.service import VisionService
from tests.edge_runtime.vision_stream import RtspServer


def test_an_rtsp_stream_is_read_and_its_motion_seen() -> None:
    events: list[VisionEvent] = []
    with RtspServer() as server:
        camera = CameraConfig("driveway", server.url, zones=[[0.0, 0.0, 0.5, 1.0]], hold_s=0.5, rtsp_transport="udp")

        async def scenario() -> tuple[int, tuple[int, ...]]:
            async with VisionService([camera], on_event=events.append, backoff_s=(0.5, 2.0)) as service:
                driveway = service.cameras["driveway"]
                deadline = time.monotonic() + 40
                while not any(e.kind == "motion_cleared" for e in events):
                    assert time.monotonic() < deadline, (driveway.state, driveway.error, [e.kind for e in events])
                    await asyncio.sleep(0.1)
                frame = driveway.latest()
                assert frame is not None
                return driveway.frames, frame.shape

        frames, shape = asyncio.run(scenario())
    kinds = [e.kind for e in events]
    assert kinds[0] == "available" and "motion" in kinds, kinds
    assert shape == (480, 640, 3) and frames > 20
