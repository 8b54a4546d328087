"""RTSP cameras (#20), on loopback, read through OpenCV's FFmpeg backend; motion in the zone raises the
event. Two servers: Debian's rtsp-server-perl relaying H.264 that ffmpeg publishes (RTP over UDP only),
and GStreamer's RTSP server sending MJPEG (RTP interleaved over TCP only, the hub's default)."""

from __future__ import annotations

import asyncio
import time

import pytest

from edge_runtime.vision.config import CameraConfig
from edge_runtime.vision.events import VisionEvent
from edge_runtime.vision.service import VisionService
from edge_runtime.vision.sources import CameraError, CaptureSource
from tests.edge_runtime.vision_stream import RtspServer, TcpRtspServer


def watch_until_motion_clears(camera: CameraConfig) -> tuple[list[str], int, tuple[int, ...]]:
    events: list[VisionEvent] = []

    async def scenario() -> tuple[int, tuple[int, ...]]:
        async with VisionService([camera], on_event=events.append, backoff_s=(0.5, 2.0)) as service:
            watched = service.cameras[camera.name]
            deadline = time.monotonic() + 40
            while not any(e.kind == "motion_cleared" for e in events):
                assert time.monotonic() < deadline, (watched.state, watched.error, [e.kind for e in events])
                await asyncio.sleep(0.1)
            frame = watched.latest()
            assert frame is not None
            return watched.frames, frame.shape

    frames, shape = asyncio.run(scenario())
    return [e.kind for e in events], frames, shape


def test_an_rtsp_stream_is_read_and_its_motion_seen() -> None:
    with RtspServer() as server:
        camera = CameraConfig("driveway", server.url, zones=[[0.0, 0.0, 0.5, 1.0]], hold_s=0.5, rtsp_transport="udp")
        kinds, frames, shape = watch_until_motion_clears(camera)
    assert kinds[0] == "available" and "motion" in kinds, kinds
    assert shape == (480, 640, 3) and frames > 20


def test_rtsp_over_tcp_the_default_is_read_and_its_motion_seen() -> None:
    with TcpRtspServer() as server:
        with pytest.raises(CameraError):  # the server refuses RTP over UDP: what follows went over TCP
            CaptureSource(server.url, timeout_s=3.0, rtsp_transport="udp").open()
        camera = CameraConfig("porch", server.url, zones=[[0.0, 0.0, 0.5, 1.0]], hold_s=0.5)
        assert camera.rtsp_transport == "tcp"
        kinds, frames, shape = watch_until_motion_clears(camera)
    assert kinds[0] == "available" and "motion" in kinds, kinds
    assert shape == (480, 640, 3) and frames > 20
