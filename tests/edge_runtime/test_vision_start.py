"""`start_vision`, as `hub up` calls it: the cameras of cameras.toml started, the route put into a brain once."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import cv2

from edge_runtime.brain.router import Brain
from edge_runtime.clock import SystemClock
from edge_runtime.settings import EdgeSettings
from edge_runtime.skills.builtin import BuiltinSkills
from edge_runtime.skills.timers import Timer, TimerManager
from edge_runtime.vision import config, start_vision
from edge_runtime.vision.config import CameraConfig
from tests.edge_runtime.vision_images import photo


async def _ring(timer: Timer, n: int) -> None:
    return None


def test_start_vision_reads_cameras_toml_and_attaches_its_route_once(tmp_path: Path) -> None:
    drop = tmp_path / "drop"
    drop.mkdir()
    cv2.imwrite(str(drop / "a.png"), photo("astronaut"))
    settings = EdgeSettings(config_dir=tmp_path / "c", data_dir=tmp_path / "d", room="hall")
    config.add(settings.config_dir, CameraConfig("front door", str(drop), room="hall", motion=False))

    async def scenario() -> list[str]:
        vision = await start_vision(settings)
        clock = SystemClock()
        brain = Brain(BuiltinSkills(clock, TimerManager(clock, _ring)))
        before = len(brain.routes)
        vision.attach(brain)
        vision.attach(brain)
        assert len(brain.routes) == before + 1 and brain.routes[2].__name__ == "vision"
        deadline = time.monotonic() + 10
        while vision.service.cameras["front_door"].state != "online":
            assert time.monotonic() < deadline
            await asyncio.sleep(0.05)
        replies = [
            (await brain.handle(said)).reply for said in ("is anyone at the front door", "is anyone in the attic")
        ]
        await vision.stop()
        return replies

    assert asyncio.run(scenario()) == [
        "Yes, I can see someone at the front door.",
        "I don't have a camera in the attic.",
    ]
