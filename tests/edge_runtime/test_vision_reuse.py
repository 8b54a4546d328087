"""People questions (#20) reuse a camera's scheduled detection: "how many people are at the front door?"
answered from the detection the camera's own thread ran a moment ago, with no second detection; and
from the newest frame when that detection is older than the skill's limit. The same questions with the
ONNX detector chosen (`people_detector`). Real folder cameras, real photos, the real detectors; a
detector's own call count shows which way the answer came."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import cv2

from edge_runtime.vision.camera import Camera
from edge_runtime.vision.config import CameraConfig
from edge_runtime.vision.detectors import PeopleDetectors
from edge_runtime.vision.service import VisionService
from edge_runtime.vision.skill import FRESH_S, VisionSkill
from models.people_onnx import MODEL_ID, YoloPeople
from models.registry import Registry
from models.vision_hub import PeopleDetector
from tests.edge_runtime.test_vision_voice import _brain, _until
from tests.edge_runtime.vision_images import photo


def _folder(tmp_path: Path, name: str, image: str) -> str:
    folder = tmp_path / name
    folder.mkdir()
    cv2.imwrite(str(folder / "1.png"), photo(image))
    return str(folder)


def _scheduled(camera: Camera) -> int:
    assert camera.people is not None
    return camera.people.metrics.calls


def test_how_many_people_reuses_the_cameras_fresh_scheduled_detection(tmp_path: Path) -> None:
    door = CameraConfig("front door", _folder(tmp_path, "door", "astronaut"), motion=False, people=True)

    async def scenario() -> None:
        async with VisionService([door], backoff_s=(0.2, 1.0)) as service:
            camera = service.cameras["front_door"]
            # someone in view: the camera looks twice a second, so its result is never far behind
            await _until(lambda: camera.recent_people(1.0) is not None, 20)
            assert camera.people_seen == 1
            own = PeopleDetector()
            brain = _brain(VisionSkill(service, here=None, people=own))
            before = _scheduled(camera)
            count = await brain.handle("How many people are at the front door?")
            assert (count.intent, count.reply) == ("vision_count", "I can see one person at the front door.")
            assert count.data["source"] == "scheduled" and 0.0 <= count.data["age_s"] <= FRESH_S, count.data
            assert own.metrics.calls == 0  # the answer cost no detection of its own
            await _until(lambda: camera.recent_people(1.0) is not None, 10)
            anyone = await brain.handle("Is anyone at the front door?")
            assert anyone.reply == "Yes, I can see someone at the front door." and own.metrics.calls == 0
            assert _scheduled(camera) >= before >= 1

            # the same question, with a limit no detection can meet: it detects on the newest frame
            strict = _brain(VisionSkill(service, here=None, people=own, fresh_s=0.0))
            again = await strict.handle("How many people are at the front door?")
            assert again.reply == "I can see one person at the front door." and again.data["source"] == "frame"
            assert own.metrics.calls == 1

    asyncio.run(scenario())


def test_a_scheduled_detection_older_than_the_limit_is_not_reused(tmp_path: Path) -> None:
    """Nobody in view and no motion: the camera looks once at the start, then only every 60 s. After
    FRESH_S its result is stale, so the skill looks at the newest frame itself."""
    hall = CameraConfig("hall", _folder(tmp_path, "hall", "coffee"), motion=False, people=True, people_every_s=60.0)

    async def scenario() -> None:
        async with VisionService([hall], backoff_s=(0.2, 1.0)) as service:
            camera = service.cameras["hall"]
            await _until(lambda: camera.people_result is not None, 20)
            assert camera.people_seen == 0
            await _until(lambda: camera.recent_people(FRESH_S) is None, 10)
            own = PeopleDetector()
            brain = _brain(VisionSkill(service, here=None, people=own))
            count = await brain.handle("how many people are in the hall")
            assert (count.reply, count.data["source"]) == ("I don't see anyone in the hall.", "frame"), count.data
            assert own.metrics.calls == 1 and _scheduled(camera) == 1

    asyncio.run(scenario())


def test_is_anyone_at_the_front_door_with_the_onnx_detector(tmp_path: Path, registry: Registry) -> None:
    door = CameraConfig("front door", _folder(tmp_path, "door", "astronaut"), motion=False)
    hall = CameraConfig("hall", _folder(tmp_path, "hall", "astronaut"), motion=False, people=True)
    people = PeopleDetectors(MODEL_ID, registry)

    async def scenario() -> None:
        async with VisionService([door, hall], backoff_s=(0.2, 1.0), people=people) as service:
            front, inside = service.cameras["front_door"], service.cameras["hall"]
            onnx = inside.people
            assert isinstance(onnx, YoloPeople) and people.using == MODEL_ID  # one session for all
            await _until(lambda: front.state == "online" and inside.recent_people(1.0) is not None, 20)
            brain = _brain(VisionSkill(service, here=None))
            calls = onnx.metrics.calls
            yes = await brain.handle("Is anyone at the front door?")  # no schedule there: the newest frame
            assert (yes.intent, yes.reply) == ("vision_people", "Yes, I can see someone at the front door.")
            assert yes.data["source"] == "frame" and yes.data["how"] == ["body"]
            assert onnx.metrics.calls > calls
            time.sleep(0.01)
            cv2.imwrite(str(Path(door.source) / "2.png"), photo("coffee"))  # the newest image is the frame
            await _until(lambda: front.frames >= 2 and front.latest().shape == photo("coffee").shape, 10)  # type: ignore[union-attr]
            no = await brain.handle("is there anybody at the front door")
            assert no.reply == "No, I don't see anyone at the front door.", no.reply
            await _until(lambda: inside.recent_people(1.0) is not None, 10)
            count = await brain.handle("how many people are in the hall?")
            assert count.reply == "I can see one person in the hall." and count.data["source"] == "scheduled"

    asyncio.run(scenario())
