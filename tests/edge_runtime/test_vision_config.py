"""cameras.toml (#20): written whole and private, read back as written, refused with a clear code."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from common.tomlfile import ConfigInvalid
from edge_runtime.vision import config
from edge_runtime.vision.config import CameraConfig, CameraNotFound


def test_cameras_round_trip_and_stay_private(tmp_path: Path) -> None:
    folder = tmp_path / "drop"
    folder.mkdir()
    door = CameraConfig(
        'front "door" 🚪', "rtsp://admin:p@ss:w0rd@10.0.0.5:554/s1", room="hall", zones=[[0, 0, 0.5, 1]]
    )
    config.add(tmp_path, door)
    config.add(tmp_path, CameraConfig("garage", str(folder), people=True))
    config.add(tmp_path, CameraConfig("Garage", str(folder), hold_s=3))  # the same name: replaced
    cameras = config.load(tmp_path)
    assert [c.name for c in cameras] == ['front "door" 🚪', "Garage"] and cameras[1].hold_s == 3
    assert cameras[0] == door and cameras[1].people is False
    assert stat.S_IMODE((tmp_path / "cameras.toml").stat().st_mode) == 0o600
    assert cameras[0].public()["source"] == "rtsp://admin:***@10.0.0.5:554/s1"
    assert config.find(cameras, "GARAGE").name == "Garage"
    with pytest.raises(CameraNotFound):
        config.find(cameras, "attic")


@pytest.mark.parametrize(
    "camera",
    [
        CameraConfig("", "device:0"),
        CameraConfig("x", "ftp://cam/"),
        CameraConfig("x", "device:zero"),
        CameraConfig("x", "device:0", zones=[[0, 0, 2, 1]]),
        CameraConfig("x", "device:0", sensitivity=1.5),
        CameraConfig("x", "device:0", fps=0),
    ],
)
def test_bad_cameras_are_refused(camera: CameraConfig) -> None:
    with pytest.raises(ConfigInvalid):
        camera.check()


def test_an_unknown_key_in_the_file_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "cameras.toml").write_text('[[camera]]\nname = "x"\nsource = "device:0"\ncolour = "red"\n')
    with pytest.raises(ConfigInvalid, match="colour"):
        config.load(tmp_path)
