"""A simulated home as a user runs one: `companion devices simulate --config ...` on a real broker."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from device_drivers.mosquitto import Mosquitto

EXE = [sys.executable, "-m", "cli"]


@contextmanager
def simulated_home(mosquitto: Mosquitto, tmp_path: Path, config: Path) -> Iterator[dict[str, str]]:
    """The environment for `companion ...` against the simulated devices of `config`."""
    env = {
        **os.environ,
        "COMPANION_MQTT_URL": mosquitto.url,
        "COMPANION_DATA_DIR": str(tmp_path / "data"),
        "COMPANION_CONFIG_DIR": str(tmp_path / "config"),
    }
    sim = subprocess.Popen(
        [*EXE, "devices", "simulate", "--config", str(config), "--broker", mosquitto.url],
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(1.5)
    try:
        yield env
    finally:
        sim.terminate()
        sim.wait(10)
