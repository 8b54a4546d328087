"""Voice over the hub's cameras (#20), through the brain's routes: "is anyone at the front door?" from
real frames with and without a person, "what does this say?" from a card held up to a real MJPEG
stream (a QR code and a line of text), and a clear "no" where no camera watches the place."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import cv2
import numpy as np

from edge_runtime.brain.router import Brain
from edge_runtime.clock import SystemClock
from edge_runtime.skills.builtin import BuiltinSkills
from edge_runtime.skills.timers import Timer, TimerManager
from edge_runtime.vision.config import CameraConfig
from edge_runtime.vision.route import routes_with_vision
from edge_runtime.vision.service import VisionService
from edge_runtime.vision.skill import VisionSkill
from models.registry import Registry
from models.vision import Ocr
from models.vision_hub import PeopleDetector
from tests.edge_runtime.vision_images import LABELLED, photo, sign
from tests.edge_runtime.vision_stream import MjpegServer


async def _ring(timer: Timer, n: int) -> None:
    return None


def _brain(skill: VisionSkill) -> Brain:
    clock = SystemClock()
    return Brain(BuiltinSkills(clock, TimerManager(clock, _ring)), routes=routes_with_vision(skill))


async def _until(check: Callable[[], bool], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.05)


def _run(
    configs: list[CameraConfig],
    here: str | None,
    body: Callable[[Brain, VisionService], Awaitable[None]],
    **skill_kw: object,
) -> None:
    async def scenario() -> None:
        async with VisionService(configs, backoff_s=(0.2, 1.0)) as service:
            await body(_brain(VisionSkill(service, here=here, **skill_kw)), service)  # type: ignore[arg-type]

    asyncio.run(scenario())


def test_is_anyone_at_the_front_door_from_a_frame_with_and_without_a_person(tmp_path: Path) -> None:
    door = tmp_path / "door"
    door.mkdir()
    cv2.imwrite(str(door / "1.png"), photo("astronaut"))
    front = CameraConfig("front door", str(door), motion=False)

    async def body(brain: Brain, service: VisionService) -> None:
        camera = service.cameras["front_door"]
        await _until(lambda: camera.state == "online", 10)
        yes = await brain.handle("Is anyone at the front door?")
        assert (yes.route, yes.intent) == ("local-intent", "vision_people")
        assert yes.reply == "Yes, I can see someone at the front door.", yes.reply
        assert yes.data["people"] == 1 and yes.data["camera"] == "front door"
        time.sleep(0.01)
        cv2.imwrite(str(door / "2.png"), photo("coffee"))  # the newest image is the current frame
        await _until(lambda: camera.frames >= 2 and camera.latest().shape == photo("coffee").shape, 10)  # type: ignore[union-attr]
        no = await brain.handle("is there anybody at the front door")
        assert no.reply == "No, I don't see anyone at the front door.", no.reply
        count = await brain.handle("How many people are at the front door?")
        assert (count.intent, count.reply) == ("vision_count", "I don't see anyone at the front door.")
        nowhere = await brain.handle("Is anyone in the garage?")
        assert (nowhere.route, nowhere.reply) == ("local-intent", "I don't have a camera in the garage.")
        assert nowhere.data["declined"] == "no-camera"
        other = await brain.handle("what time is it")
        assert other.route == "builtin"  # the built-in skills still answer first

    _run([front], None, body)


def test_a_camera_without_frames_is_declined_as_unavailable(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()

    async def body(brain: Brain, service: VisionService) -> None:
        await _until(lambda: service.cameras["porch"].state == "unavailable", 10)
        answer = await brain.handle("is anyone on the porch?")
        assert answer.reply == "The porch camera isn't available right now."

    _run([CameraConfig("porch", str(empty), motion=False)], None, body)


def test_people_detector_on_the_labelled_photos() -> None:
    """The photos a test can trust: a face close to the camera is found; these scenes have no one."""
    detector = PeopleDetector()
    assert [p.how for p in detector.detect(photo("astronaut"))].count("face") == 1
    for name in ("coffee", "chelsea", "horse", "coins", "grass", "brick"):
        assert not LABELLED[name] and detector.detect(photo(name)) == [], name
    small = photo("coffee")[:60, :50]  # smaller than HOG's window: OpenCV itself would crash on it
    assert detector.detect(small) == []


def test_a_qr_code_and_a_line_of_text_held_up_to_a_camera_are_read(tmp_path: Path) -> None:
    card = tmp_path / "card.png"
    cv2.imwrite(str(card), sign("WIFI:S:Garden Net;T:WPA;P:tomato42;;", "Kitchen closes at nine"))
    with MjpegServer(image=card) as stream:
        desk = CameraConfig("desk", stream.url, room="office", motion=False)

        async def body(brain: Brain, service: VisionService) -> None:
            await _until(lambda: service.cameras["desk"].state == "online", 15)
            read = await brain.handle("What does this say?")
            assert read.intent == "vision_read" and read.data["camera"] == "desk"
            assert read.data["codes"] == ["WIFI:S:Garden Net;T:WPA;P:tomato42;;"]
            assert read.data["lines"] == ["Kitchen closes at nine"], read.data
            assert read.reply == "That's a Wi-Fi code for the network Garden Net. It says: Kitchen closes at nine."

        _run([desk], "office", body, ocr=lambda: Ocr(Registry()))


def test_reading_declines_without_a_camera_in_the_room_and_says_when_ocr_is_missing(tmp_path: Path) -> None:
    folder = tmp_path / "desk"
    folder.mkdir()
    cv2.imwrite(str(folder / "card.png"), sign("https://example.org/pair/42", "Kitchen closes at nine"))

    async def body(brain: Brain, service: VisionService) -> None:
        await _until(lambda: all(c.state == "online" for c in service.cameras.values()), 10)
        read = await brain.handle("read this please")
        assert read.reply == "The QR code is a link to example.org.", read.reply  # no OCR on this hub
        assert read.data["ocr"] is False
        time.sleep(0.01)
        text_only = np.full((480, 640, 3), 230, np.uint8)
        cv2.putText(text_only, "FLOUR", (120, 260), cv2.FONT_HERSHEY_SIMPLEX, 3, (20, 20, 20), 6)
        cv2.imwrite(str(folder / "label.png"), text_only)
        await _until(lambda: service.cameras["desk"].frames >= 2, 10)
        await asyncio.sleep(0.3)
        label = await brain.handle("what does this say")
        assert "needs the OCR models: pip install 'companion[edge,ocr]'" in label.reply, label.reply

    _run([CameraConfig("desk", str(folder), room="office", motion=False)], "office", body)
    _run(
        [CameraConfig("desk", str(folder), room="office", motion=False)],
        "kitchen",
        lambda brain, _s: _expect(brain, "what does this say", "There's no camera in the kitchen to read from."),
    )


async def _expect(brain: Brain, said: str, reply: str) -> None:
    answer = await brain.handle(said)
    assert answer.reply == reply, answer.reply
