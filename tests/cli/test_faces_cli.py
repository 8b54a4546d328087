"""`companion faces enroll|list|forget` (#20), run as a user runs it, on real photos with dlib."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import cv2

from tests.edge_runtime.vision_images import photo

EXE = [sys.executable, "-m", "cli"]


def test_enroll_list_forget(tmp_path: Path) -> None:
    env = {**os.environ, "COMPANION_CONFIG_DIR": str(tmp_path / "config"), "COMPANION_DATA_DIR": str(tmp_path / "d")}

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*EXE, *args], env=env, capture_output=True, text=True, timeout=120, check=False)

    alice, cup = tmp_path / "alice.jpg", tmp_path / "cup.png"
    cv2.imwrite(str(alice), photo("astronaut"))
    cv2.imwrite(str(cup), photo("coffee"))
    enrolled = cli("faces", "enroll", "Alice", str(alice), str(alice))
    assert enrolled.returncode == 0, enrolled.stderr
    assert "Enrolled Alice: 2 photos on this hub." in enrolled.stdout
    saved = tmp_path / "d" / "faces.json"
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600
    assert "astronaut" not in saved.read_text() and len(json.loads(saved.read_text())["people"]["Alice"][0]) == 128

    refused = cli("faces", "enroll", "Cup", str(cup))
    assert refused.returncode == 2 and "FACES_NOT_FOUND" in refused.stderr, refused.stderr
    assert json.loads(cli("faces", "list", "--json").stdout) == [{"name": "Alice", "photos": 2}]
    assert cli("faces", "forget", "alice").stdout.strip() == "Forgot Alice."
    assert "Nobody is enrolled yet" in cli("faces", "list").stdout
    gone = cli("faces", "forget", "Alice")
    assert gone.returncode == 2 and "FACES_UNKNOWN_NAME" in gone.stderr
