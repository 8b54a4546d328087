"""`companion hub up` as a user runs it, in its own process with its own config and data dirs,
fed from stdin (silence unless a test writes audio), with the LAN API on a free port."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

EXE = [sys.executable, "-m", "cli"]


def hub_env(root: Path, **settings: str) -> dict[str, str]:
    env = {
        **os.environ,
        "COMPANION_CONFIG_DIR": str(root / "config"),
        "COMPANION_DATA_DIR": str(root / "data"),
        "COMPANION_API_PORT": "0",
        "COMPANION_API_MDNS": "false",
        "COMPANION_LOG_FORMAT": "json",
    }
    env.update({f"COMPANION_{k.upper()}": v for k, v in settings.items()})
    return env


def cli(env: dict[str, str], *args: str, timeout: float = 90) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*EXE, *args], env=env, capture_output=True, text=True, timeout=timeout, check=False)


class HubProcess:
    def __init__(self, root: Path, *extra: str, **settings: str) -> None:
        self.root = root
        self.env = hub_env(root, **settings)
        self.log = root / "hub.log"
        root.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen(
            [*EXE, "--log-level", "INFO", "hub", "up", "--stdin", "--out", str(root / "speaker.wav"), *extra],
            env=self.env,
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=self.log.open("w"),
        )
        self.port = 0

    def start(self, timeout_s: float = 120) -> HubProcess:
        """Ready when the hub says which port its API took (engines and models load first)."""
        running = self.root / "data" / "api.json"
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"hub exited {self.proc.returncode}:\n{self.log.read_text()[-3000:]}")
            if running.exists():
                try:
                    self.port = int(json.loads(running.read_text())["port"])
                    return self
                except (ValueError, KeyError):
                    pass
            time.sleep(0.1)
        raise TimeoutError(f"hub API not up after {timeout_s} s:\n{self.log.read_text()[-3000:]}")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def write_pcm(self, pcm: bytes) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(pcm)
        self.proc.stdin.flush()

    def logs(self) -> list[dict[str, Any]]:
        found = []
        for line in self.log.read_text().splitlines():
            with contextlib.suppress(ValueError):
                found.append(json.loads(line))
        return found

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return int(self.proc.returncode)
