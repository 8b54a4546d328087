"""Snapshots kept on the hub (#20) and their retention limit: by count and by age, globally in
cameras.toml's `[snapshots]` table or per camera, enforced when one is written and when the cameras
start. The end-to-end test runs a real MJPEG stream (ffmpeg on loopback) through `start_vision`."""

from __future__ import annotations

import asyncio
import os
import stat
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from common.tomlfile import ConfigInvalid, read_toml, write_toml
from edge_runtime.settings import EdgeSettings
from edge_runtime.vision import config, start_vision
from edge_runtime.vision.config import CameraConfig
from edge_runtime.vision.snapshots import Retention, SnapshotStore
from tests.edge_runtime.vision_stream import MjpegServer

DAY = 86400.0
LEFT = [0.0, 0.0, 0.5, 1.0]  # the half the box walks across (the whole frame: too little of it moves)
JPEG = b"\xff\xd8\xff\xe0 not really a picture \xff\xd9"


def _aged(path: Path, days: float) -> Path:
    then = time.time() - days * DAY
    os.utime(path, (then, then))
    return path


def test_a_write_keeps_the_newest_up_to_the_count_and_drops_the_too_old(tmp_path: Path) -> None:
    store = SnapshotStore(tmp_path / "snapshots", Retention(keep=3, max_age_days=2))
    written = [store.write("garage", JPEG, "motion", at=time.time() - 60 + i) for i in range(5)]
    assert store.kept("garage") == written[2:]
    assert [p.exists() for p in written] == [False, False, True, True, True]
    assert written[-1].read_bytes() == JPEG and stat.S_IMODE(written[-1].stat().st_mode) == 0o600
    assert stat.S_IMODE(store.folder("garage").stat().st_mode) == 0o700
    _aged(written[2], 3)  # older than max_age_days: gone at the next write, though under the count
    newest = store.write("garage", JPEG, "person")
    assert store.kept("garage") == [written[3], written[4], newest] and newest.name.endswith("-person.jpg")
    at = time.time()  # two in the same millisecond: both kept, under two names
    twins = [store.write("porch", JPEG, "motion", at=at) for _ in range(2)]
    assert twins[0] != twins[1] and store.kept("porch") == sorted(twins, key=lambda p: p.name)
    assert store.write("porch", JPEG, "motion", at=at - 3 * DAY).exists() is False  # too old as it is written


def test_at_start_every_folder_is_held_to_its_limit_and_only_snapshots_are_touched(tmp_path: Path) -> None:
    root = tmp_path / "snapshots"
    per_camera = {"door": Retention(keep=1, max_age_days=30)}
    store = SnapshotStore(root, Retention(keep=2, max_age_days=7), per_camera)
    door = [store.write("door", JPEG, "motion", at=time.time() - 100 + i) for i in range(3)]  # keep=1 per write
    assert store.kept("door") == door[2:]
    (root / "gone_camera").mkdir()  # a camera no longer configured: the default limit
    old = [root / "gone_camera" / f"2026010{i}-000000-000-motion.jpg" for i in range(3)]
    for p in old:
        p.write_bytes(JPEG)
        _aged(p, 10)
    fresh = root / "gone_camera" / "20990101-000000-000-motion.jpg"
    fresh.write_bytes(JPEG)
    mine = root / "gone_camera" / "holiday.jpg"  # not named as the hub names them: never deleted
    mine.write_bytes(JPEG)
    _aged(mine, 400)
    removed = store.prune_all()
    assert sorted(removed) == sorted(old)
    assert fresh.exists() and mine.exists() and door[2].exists()
    _aged(door[2], 31)  # the door camera's own age limit (30 days), not the default 7
    assert store.prune_all() == [door[2]]


def test_the_limits_come_from_cameras_toml_and_survive_adding_a_camera(tmp_path: Path) -> None:
    folder = tmp_path / "drop"
    folder.mkdir()
    assert config.load_retention(tmp_path) == Retention(keep=100, max_age_days=7.0)  # no file: the defaults
    write_toml(tmp_path / config.FILE_NAME, {"snapshots": {"keep": 20, "max_age_days": 3}})
    config.add(tmp_path, CameraConfig("porch", str(folder), snapshot_keep=5))
    assert read_toml(tmp_path / config.FILE_NAME)["snapshots"] == {"keep": 20, "max_age_days": 3}
    assert config.load_retention(tmp_path) == Retention(keep=20, max_age_days=3)
    cameras = config.load(tmp_path)
    assert cameras[0].snapshot_keep == 5 and cameras[0].snapshots is True
    store = SnapshotStore.for_cameras(tmp_path / "d", config.load_retention(tmp_path), cameras)
    assert store.retention("porch") == Retention(keep=5, max_age_days=3)
    assert store.retention("other") == Retention(keep=20, max_age_days=3)
    for bad in ({"keep": 0}, {"max_age_days": -1}, {"keep": "many"}, {"kept": 3}):
        write_toml(tmp_path / config.FILE_NAME, {"snapshots": bad})
        with pytest.raises(ConfigInvalid):
            config.load_retention(tmp_path)
    with pytest.raises(ConfigInvalid):
        CameraConfig("porch", str(folder), snapshot_keep=0).check()


def test_the_hub_keeps_a_snapshot_of_each_motion_within_the_limit(tmp_path: Path) -> None:
    """A real stream: the cameras start (an old snapshot goes, over the limit ones go), then motion
    writes the frame it saw, and the oldest is dropped to stay at `keep`."""
    settings = EdgeSettings(config_dir=tmp_path / "c", data_dir=tmp_path / "d", _env_file=None)
    folder = settings.data_dir / "snapshots" / "garage"
    folder.mkdir(parents=True)
    now = time.time()
    seeded = []
    for i, days in enumerate((40, 0.3, 0.2, 0.1)):  # one too old, three within the age limit
        path = folder / f"2026010{i}-000000-000-motion.jpg"
        path.write_bytes(JPEG)
        os.utime(path, (now - days * DAY, now - days * DAY))
        seeded.append(path)
    write_toml(settings.config_dir / config.FILE_NAME, {"snapshots": {"keep": 3, "max_age_days": 30}})
    with MjpegServer() as stream:
        config.add(settings.config_dir, CameraConfig("garage", stream.url, hold_s=10, zones=[LEFT]))
        kept_at_start: list[Path] = []

        async def scenario() -> list[str]:
            events: list[str] = []
            vision = await start_vision(settings, on_event=lambda e: events.append(e.kind))
            kept_at_start.extend(p for p in seeded if p.exists())
            deadline = time.monotonic() + 25
            while "motion" not in events and time.monotonic() < deadline:
                await asyncio.sleep(0.1)
            await asyncio.sleep(0.5)
            status = vision.service.status()
            await vision.stop()
            assert status[0]["snapshots"] == 3, status
            return events

        events = asyncio.run(scenario())
    assert "motion" in events, events
    assert kept_at_start == seeded[1:]  # the 40-day-old one went at start
    kept = sorted(folder.iterdir())
    assert len(kept) == 3 and seeded[1] not in kept and seeded[2] in kept, kept  # the oldest went at the write
    new = [p for p in kept if p not in seeded]
    assert len(new) == 1 and new[0].name.endswith("-motion.jpg"), kept
    frame = cv2.imdecode(np.frombuffer(new[0].read_bytes(), np.uint8), cv2.IMREAD_COLOR)
    assert frame is not None and frame.shape == (480, 640, 3)


def test_a_camera_with_snapshots_off_keeps_none(tmp_path: Path) -> None:
    settings = EdgeSettings(config_dir=tmp_path / "c", data_dir=tmp_path / "d", _env_file=None)
    with MjpegServer() as stream:
        config.add(settings.config_dir, CameraConfig("garage", stream.url, hold_s=10, zones=[LEFT], snapshots=False))

        async def scenario() -> list[str]:
            events: list[str] = []
            vision = await start_vision(settings, on_event=lambda e: events.append(e.kind))
            deadline = time.monotonic() + 25
            while "motion" not in events and time.monotonic() < deadline:
                await asyncio.sleep(0.1)
            await asyncio.sleep(0.5)
            await vision.stop()
            return events

        assert "motion" in asyncio.run(scenario())
    assert not (settings.data_dir / "snapshots" / "garage").exists()
