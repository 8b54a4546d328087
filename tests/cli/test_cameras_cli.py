"""`companion cameras add|list|show|snapshot` (#20), run as a user runs it, against a real MJPEG stream
(ffmpeg on loopback) and a folder of images."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import cv2

from tests.edge_runtime.vision_images import photo
from tests.edge_runtime.vision_stream import MjpegServer

EXE = [sys.executable, "-m", "cli"]


def cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*EXE, *args], env=env, capture_output=True, text=True, timeout=90, check=False)


def test_add_list_show_snapshot(tmp_path: Path) -> None:
    env = {**os.environ, "COMPANION_CONFIG_DIR": str(tmp_path / "config"), "COMPANION_DATA_DIR": str(tmp_path / "d")}
    folder = tmp_path / "drop"
    folder.mkdir()
    cv2.imwrite(str(folder / "a.png"), photo("chelsea"))
    with MjpegServer() as stream:
        door = stream.url.replace("http://", "http://admin:s3cret@")
        added = cli(env, "cameras", "add", "front door", door, "--zone", "0,0,0.5,1", "--hold", "3")
        assert added.returncode == 0, added.stderr
        assert cli(env, "cameras", "add", "Garage", str(folder), "--room", "garage", "--check").returncode == 0
        listed = cli(env, "cameras", "list", "--json")
        cameras = json.loads(listed.stdout)
        assert [c["name"] for c in cameras] == ["front door", "Garage"]
        assert cameras[0]["source"].startswith("http://admin:***@") and "s3cret" not in listed.stdout
        assert cameras[0]["zones"] == [[0.0, 0.0, 0.5, 1.0]] and cameras[0]["hold_s"] == 3.0
        assert cameras[1]["room"] == "garage"
        toml = tmp_path / "config" / "cameras.toml"
        assert stat.S_IMODE(toml.stat().st_mode) == 0o600  # a source can hold a password

        shown = json.loads(cli(env, "cameras", "show", "front door", "--json").stdout)
        assert (shown["state"], shown["width"], shown["height"]) == ("online", 640, 480)
        shot = tmp_path / "shot.jpg"
        taken = cli(env, "cameras", "snapshot", "garage", "--out", str(shot))
        assert taken.returncode == 0, taken.stderr
        image = cv2.imread(str(shot))
        assert image is not None and image.shape == photo("chelsea").shape
        # Without --out: into the hub's snapshots, held to the camera's limit (2) at each one written.
        limited = cli(env, "cameras", "add", "Garage", str(folder), "--room", "garage", "--snapshot-keep", "2")
        assert limited.returncode == 0, limited.stderr
        shots = [cli(env, "cameras", "snapshot", "garage") for _ in range(3)]
        assert all(s.returncode == 0 for s in shots), [s.stderr for s in shots]
        kept = sorted((tmp_path / "d" / "snapshots" / "garage").iterdir())
        paths = [Path(s.stdout.split(" (")[0].strip()) for s in shots]
        assert kept == paths[1:] and all(p.name.endswith("-snapshot.jpg") for p in kept), (kept, paths)
        newest = cv2.imread(str(kept[-1]))
        assert newest is not None and newest.shape == photo("chelsea").shape

    gone = json.loads(cli(env, "cameras", "show", "front door", "--json").stdout)
    assert gone["state"] == "unavailable" and "could not open" in gone["error"]
    missing = cli(env, "cameras", "show", "attic")
    assert missing.returncode != 0 and "CAMERA_NOT_FOUND" in missing.stderr + missing.stdout
    bad = cli(env, "cameras", "add", "x", "ftp://nowhere")
    assert bad.returncode != 0 and "CONFIG_INVALID" in bad.stderr + bad.stdout
