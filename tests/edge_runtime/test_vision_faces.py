"""\"who is at the door?\" (#20) through the brain's routes, from a real camera (a folder of images) and
real dlib recognition: an enrolled face is named, a stranger is not, an empty frame has nobody; with
nobody enrolled, or without the `faces` extra, the hub says so. The enrolled faces are a 0600 file."""

from __future__ import annotations

import asyncio
import stat
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import cv2
import numpy as np
import pytest

from edge_runtime.brain.router import Brain
from edge_runtime.vision.config import CameraConfig
from edge_runtime.vision.known_faces import KnownFaces, UnknownFace
from edge_runtime.vision.service import VisionService
from edge_runtime.vision.skill import VisionSkill
from edge_runtime.vision.who import WhoIsThere
from models.faces import FaceRecognizer
from models.registry import Registry, load_manifest
from tests.edge_runtime.test_vision_voice import _brain, _until
from tests.edge_runtime.vision_images import lfw_face, photo


@pytest.fixture(scope="module")
def recognizer() -> FaceRecognizer:
    return FaceRecognizer(Registry())


def _show(folder: Path, name: str, image: np.ndarray) -> None:
    time.sleep(0.01)  # the newest image is the camera's current frame
    cv2.imwrite(str(folder / name), image)


def _run(
    tmp: Path, who: WhoIsThere, body: Callable[[Brain, VisionService, Path], Awaitable[None]], room: str | None = None
) -> None:
    folder = tmp / "door"
    folder.mkdir(exist_ok=True)
    _show(folder, "0.png", photo("coffee"))

    async def scenario() -> None:
        config = CameraConfig("front door", str(folder), room=room, motion=False)
        async with VisionService([config], backoff_s=(0.2, 1.0)) as service:
            await _until(lambda: service.cameras["front_door"].state == "online", 10)
            await body(_brain(VisionSkill(service, here=None, who=who)), service, folder)

    asyncio.run(scenario())


async def _frame_is(service: VisionService, image: np.ndarray) -> None:
    camera = service.cameras["front_door"]
    await _until(lambda: (f := camera.latest()) is not None and np.array_equal(f, image), 10)


def test_who_is_at_the_door_names_enrolled_faces_only(tmp_path: Path, recognizer: FaceRecognizer) -> None:
    known = KnownFaces.in_dir(tmp_path / "data")
    known.enroll("Alice", [recognizer.faces(photo("astronaut")[:, ::-1].copy())[0].embedding])
    known.enroll("Bob", [recognizer.faces(lfw_face(3, side=240))[0].embedding])
    assert stat.S_IMODE(known.path.stat().st_mode) == 0o600
    assert known.counts() == {"Alice": 1, "Bob": 1}
    stranger = lfw_face(8)
    both = np.full((520, 900, 3), 180, np.uint8)  # Alice and a stranger side by side
    both[4:516, 0:512] = photo("astronaut")
    both[20:500, 512:864] = lfw_face(8)[:, 144:496]

    async def body(brain: Brain, service: VisionService, folder: Path) -> None:
        nobody = await brain.handle("Who is at the front door?")
        assert (nobody.route, nobody.intent) == ("local-intent", "vision_who")
        assert nobody.reply == "I don't see anyone at the front door.", nobody.reply
        _show(folder, "1.png", photo("astronaut"))
        await _frame_is(service, photo("astronaut"))
        alice = await brain.handle("who's at the door?")  # "the door": the one camera called "... door"
        assert alice.reply == "I see Alice at the door.", alice.reply
        assert alice.data["known"] == ["Alice"] and alice.data["distances"][0] < 0.3
        _show(folder, "2.png", stranger)
        await _frame_is(service, stranger)
        unknown = await brain.handle("who is at the front door")
        assert unknown.reply == "I see someone I don't know at the front door.", unknown.reply
        _show(folder, "3.png", both)
        await _frame_is(service, both)
        two = await brain.handle("Who is there at the front door?")
        assert two.reply == "I see Alice and someone I don't know at the front door.", two.reply
        _show(folder, "4.png", lfw_face(3))
        await _frame_is(service, lfw_face(3))
        bob = await brain.handle("who is in the garage?")  # the camera's room
        assert bob.reply == "I see Bob in the garage.", bob.reply
        nowhere = await brain.handle("who is in the attic?")
        assert (nowhere.reply, nowhere.data["declined"]) == ("I don't have a camera in the attic.", "no-camera")

    _run(tmp_path, WhoIsThere(known, lambda: recognizer), body, room="garage")


def test_nobody_enrolled_and_no_faces_extra_are_said_clearly(tmp_path: Path, recognizer: FaceRecognizer) -> None:
    empty = KnownFaces.in_dir(tmp_path / "data")
    with pytest.raises(UnknownFace):
        empty.forget("Alice")
    absent = [
        type(e)(**{**e.__dict__, "import_name": "face_recognition_models_absent"}) if e.id.startswith("faces-") else e
        for e in load_manifest()
    ]

    async def body(brain: Brain, service: VisionService, folder: Path) -> None:
        answer = await brain.handle("who is at the front door?")
        expected = "Nobody is enrolled for face recognition yet: companion faces enroll NAME PHOTO."
        assert answer.reply == expected, answer.reply

    async def missing(brain: Brain, service: VisionService, folder: Path) -> None:
        answer = await brain.handle("who is at the front door?")
        assert answer.reply == "Face recognition isn't installed on this hub: pip install 'companion[faces]'."
        assert answer.data["code"] == "FACES_NOT_INSTALLED"

    _run(tmp_path, WhoIsThere(empty, lambda: recognizer), body)
    no_package = WhoIsThere(empty, lambda: FaceRecognizer(Registry(absent, cache_dir=tmp_path / "cache")))
    _run(tmp_path, no_package, missing)


def test_a_name_is_one_the_hub_can_say(tmp_path: Path) -> None:
    known = KnownFaces.in_dir(tmp_path / "data")
    face = [np.zeros(128)]
    for bad in ("", "   ", "!!!", "x" * 41):
        with pytest.raises(UnknownFace):
            known.enroll(bad, face)
    assert known.enroll("  Mary   Ann ", face) == 1 and known.counts() == {"Mary Ann": 1}
