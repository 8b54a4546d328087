"""The app's WebRTC video as one of the hub's cameras (#20), against a real aiortc peer in this process:
a still scene, then a moving block (a motion event on that camera), then a card with a QR code (read by
the vision skill from that camera), then a stall (unavailable, then back); a second video track is
ignored; when the session closes the camera is gone. No mock of aiortc anywhere."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import av
import httpx
import numpy as np
import pytest
from aiortc import RTCSessionDescription, VideoStreamTrack
from pydantic import ValidationError

from edge_runtime.api.webrtc_routes import Offer
from edge_runtime.app import HubApp, HubOptions
from edge_runtime.clock import SystemClock
from edge_runtime.engines import Engines
from edge_runtime.settings import EdgeSettings
from edge_runtime.vision.events import AVAILABLE, MOTION, UNAVAILABLE, VisionEvent
from edge_runtime.vision.ha import CameraEntities, availability_name
from edge_runtime.vision.service import VisionService
from edge_runtime.vision.skill import VisionSkill
from edge_runtime.vision.track import TrackFeed, app_camera, to_bgr
from edge_runtime.webrtc import HubParts, SessionOptions, WebRtcSessions
from models.registry import Registry
from tests.edge_runtime.vision_images import sign
from tests.webrtc_peer import Phone

QR_TEXT = "companion-webrtc-camera"
SIZE = (640, 480)


def still() -> np.ndarray:
    """A plain room: smooth shading and two dark shapes (little for VP8 to get wrong)."""
    w, h = SIZE
    frame = np.zeros((h, w, 3), np.uint8)
    frame[:] = np.linspace(90, 170, w, dtype=np.uint8)[None, :, None]
    frame[300:420, 60:200] = (40, 60, 80)
    frame[80:160, 420:560] = (70, 50, 40)
    return frame


class Scene(VideoStreamTrack):
    """The phone's camera: whatever `frame()` draws, 30 frames a second, unless `paused` (it stalls)."""

    def __init__(self) -> None:
        super().__init__()
        self.draw: Callable[[int], np.ndarray] = lambda n: still()
        self.paused = False
        self.sent = 0

    async def recv(self) -> av.VideoFrame:
        pts, time_base = await self.next_timestamp()
        while self.paused and self.readyState == "live":
            await asyncio.sleep(0.05)
        frame = av.VideoFrame.from_ndarray(self.draw(self.sent), format="bgr24")
        frame.pts, frame.time_base = pts, time_base
        self.sent += 1
        return frame


def moving_block(n: int) -> np.ndarray:
    frame = still()
    x = 40 + (n * 37) % 400
    frame[150:330, x : x + 180] = (250, 250, 250)
    return frame


async def until(check: Callable[[], Any], timeout_s: float, what: str) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if got := check():
            return got
        await asyncio.sleep(0.05)
    raise AssertionError(f"not within {timeout_s} s: {what}")


def test_the_apps_video_is_a_camera_while_its_session_lives(
    settings: EdgeSettings, engines: Engines, registry: Registry
) -> None:
    events: list[VisionEvent] = []

    async def main() -> None:
        before = asyncio.all_tasks()
        service = await VisionService([], on_event=events.append).start()
        skill = VisionSkill(service, here="desk")

        def parts(options: SessionOptions) -> HubParts:
            video = app_camera(service, name=options.camera_name, room=options.camera_room, stale_s=1.0)
            return HubParts(video=video)

        sessions = WebRtcSessions(settings, engines, SystemClock(), registry=registry, parts=parts)
        phone = Phone()
        camera_track = Scene()
        phone.pc.addTrack(camera_track)
        phone.pc.addTrack(Scene())
        try:
            sid = await phone.connect(sessions, options=SessionOptions(camera_name="desk cam", camera_room="desk"))
            online = await until(
                lambda: [c for c in service.status() if c["state"] == "online"], 15, "the app's camera online"
            )
            assert [(c["name"], c["room"]) for c in online] == [("desk cam", "desk")]  # the second track: ignored
            camera = service.cameras["desk_cam"]
            assert camera.config.snapshot_to_cloud is False and camera.config.source == f"webrtc:{sid}"
            assert service.at("desk cam") is camera and service.in_room("desk") is camera
            discarded = [t for t in asyncio.all_tasks() if t.get_name() == f"webrtc-{sid[:8]}-discard"]
            assert sessions.get(sid).video is not None and len(discarded) == 1  # the second video: consumed, dropped
            await asyncio.sleep(1.5)  # the still scene: the background is learnt, nothing moves
            assert not [e for e in events if e.kind == MOTION]

            camera_track.draw = moving_block
            motion = await until(lambda: [e for e in events if e.kind == MOTION], 8, "a motion event")
            assert motion[0].camera == "desk cam" and motion[0].room == "desk"

            camera_track.draw = lambda n: sign(QR_TEXT, "HELLO", SIZE)

            async def read() -> list[str]:
                answer = await skill.handle("what does this say?")
                assert answer is not None and answer.data.get("camera") == "desk cam", answer
                return list(answer.data["codes"])

            codes: list[str] = []
            deadline = time.monotonic() + 8
            while QR_TEXT not in codes and time.monotonic() < deadline:
                await asyncio.sleep(0.3)
                codes = await read()
            assert codes == [QR_TEXT]

            camera_track.paused = True  # the phone's camera stalls: unavailable, not a hang
            await until(lambda: camera.state == "unavailable", 5, "the stalled camera unavailable")
            assert camera.error is not None and "no frame" in camera.error
            assert (await skill.handle("what does this say?")).data["declined"] == "unavailable"  # type: ignore[union-attr]
            camera_track.paused = False
            await until(lambda: camera.state == "online", 5, "the camera back")
            assert [e.kind for e in events if e.kind in (UNAVAILABLE, AVAILABLE)][-3:] == [
                AVAILABLE,
                UNAVAILABLE,
                AVAILABLE,
            ]

            await sessions.close(sid)  # the session ends: so does its camera
            assert service.status() == [] and service.cameras == {}
            assert camera.state == "unavailable"
            ha = CameraEntities(lambda: service.cameras.values(), lambda: service.gone.values())
            assert ha.messages()[availability_name(camera)] == "offline"
            await until(lambda: events[-1].kind == UNAVAILABLE, 2, "the camera's last event: unavailable")
        finally:
            await phone.close()
            await sessions.close_all()
            await service.stop()
        await asyncio.sleep(0.05)
        leaked = [t.get_name() for t in asyncio.all_tasks() - before if t is not asyncio.current_task()]
        assert leaked == [], f"tasks left running: {leaked}"

    asyncio.run(main())


def test_the_app_names_its_camera_in_the_offer_through_the_lan_api(engines: Engines, tmp_path: Path) -> None:
    """`hub up`'s assembly: the offer's `camera` names it, the hub's room is its room, /v1/cameras lists
    it while the session lives and not after; a camera without a usable name is refused (422)."""
    settings = EdgeSettings(
        config_dir=tmp_path / "config",
        data_dir=tmp_path / "data",
        mqtt_url="mqtt://127.0.0.1:1",
        api_port=0,
        api_mdns=False,
        llm_enabled=False,
        cloud_escalation=False,
        room="hall",
    )

    async def scenario() -> None:
        options = HubOptions(devices=False, api=True, sync=False)
        async with HubApp(settings, engines=engines, options=options) as app:
            assert app.lan is not None and app._context is not None
            code = app._context.pairing.current_code()[0]
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{app.lan.port}", timeout=30) as http:
                token = (await http.post("/v1/pairing", json={"code": code, "name": "phone"})).json()["token"]
                auth = {"Authorization": f"Bearer {token}"}
                phone = Phone()
                phone.pc.addTrack(Scene())
                try:
                    sdp = await phone.offer()
                    bad = await http.post("/v1/webrtc/offer", json={"sdp": sdp, "camera": {"name": "?"}}, headers=auth)
                    assert bad.status_code == 422, bad.text
                    body = {"sdp": sdp, "type": "offer", "camera": {"name": "kitchen phone"}}
                    answer = (await http.post("/v1/webrtc/offer", json=body, headers=auth)).json()
                    await phone.pc.setRemoteDescription(RTCSessionDescription(sdp=answer["sdp"], type="answer"))

                    async def listed() -> list[tuple[str, str, str]]:
                        cameras = (await http.get("/v1/cameras", headers=auth)).json()
                        return [(c["name"], c["room"], c["state"]) for c in cameras]

                    deadline = time.monotonic() + 15
                    while (seen := await listed()) != [("kitchen phone", "hall", "online")]:
                        assert time.monotonic() < deadline, seen
                        await asyncio.sleep(0.1)
                    closed = await http.delete(f"/v1/webrtc/{answer['session']}", headers=auth)
                    assert closed.status_code == 200 and await listed() == []
                finally:
                    await phone.close()

    asyncio.run(scenario())


def test_a_huge_frame_is_downscaled_and_only_the_newest_frame_is_kept() -> None:
    big = av.VideoFrame.from_ndarray(np.full((2160, 3840, 3), 128, np.uint8), format="bgr24")
    assert to_bgr(big).shape == (1080, 1920, 3)
    tall = av.VideoFrame.from_ndarray(np.full((2560, 1440, 3), 128, np.uint8), format="bgr24")
    assert to_bgr(tall).shape == (1920, 1080, 3)
    small = av.VideoFrame.from_ndarray(np.full((480, 640, 3), 7, np.uint8), format="bgr24")
    assert to_bgr(small).shape == (480, 640, 3) and int(to_bgr(small)[0, 0, 0]) == 7

    feed = TrackFeed()
    for n in range(100):
        feed.put(n)
    assert feed.take(0.1) == 99 and feed.dropped == 99
    assert feed.take(0.05) is None  # nothing newer: a stalled track
    feed.put(100)
    feed.end()
    assert feed.take(1.0) is None  # ended: the camera's thread is let go at once


def test_the_offer_names_the_camera_or_is_refused() -> None:
    offer = Offer.model_validate({"sdp": "v=0", "camera": {"name": " kitchen phone ", "room": "kitchen"}})
    assert offer.camera is not None and (offer.camera.name, offer.camera.room) == ("kitchen phone", "kitchen")
    assert Offer.model_validate({"sdp": "v=0"}).camera is None
    for bad in ({"name": "!!!"}, {"name": ""}, {"name": "x" * 41}, {"room": "  "}, {"name": "a", "url": "rtsp://x"}):
        with pytest.raises(ValidationError):
            Offer.model_validate({"sdp": "v=0", "camera": bad})
