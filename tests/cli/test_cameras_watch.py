"""`companion cameras watch [NAME] [--json]` (#20) against a real `hub up` process: two real MJPEG
streams (ffmpeg on loopback), the hub's LAN API event stream, the CLI's own token, Ctrl-C, and the
coded errors when the hub is not running, a camera is unknown, or the hub goes away mid-watch."""

from __future__ import annotations

import json
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path

from cli.common import Context
from cli.hubs import save_hub, saved_hubs
from edge_runtime.api.pairing import TOKEN_PREFIX
from edge_runtime.settings import EdgeSettings
from edge_runtime.vision.config import CameraConfig, save
from tests.cli.hub_process import EXE, HubProcess, cli, hub_env
from tests.edge_runtime.vision_stream import MjpegServer

LEFT, RIGHT = [0.0, 0.0, 0.5, 1.0], [0.5, 0.0, 0.5, 1.0]


class Watcher:
    """`cameras watch` in its own process, its lines collected as they come."""

    def __init__(self, env: dict[str, str], *args: str) -> None:
        self.proc = subprocess.Popen(
            [*EXE, "cameras", "watch", *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        self.lines: list[str] = []
        self.stderr = ""
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))

    def until(self, check: Callable[[list[str]], bool], timeout_s: float) -> bool:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if check(list(self.lines)):
                return True
            if self.proc.poll() is not None:
                return check(list(self.lines))
            time.sleep(0.1)
        return False

    def end(self, sig: int | None = signal.SIGINT, timeout_s: float = 20) -> int:
        if sig is not None and self.proc.poll() is None:
            self.proc.send_signal(sig)
        code = self.proc.wait(timeout_s)
        self._reader.join(5)
        assert self.proc.stderr is not None
        self.stderr = self.proc.stderr.read()
        return code


def test_watch_follows_the_hubs_camera_events_live(tmp_path: Path) -> None:
    root = tmp_path / "hub"
    env = hub_env(root)
    down = cli(env, "cameras", "watch", "--json")  # no hub on this machine yet
    assert down.returncode == 2 and "HUB_NOT_RUNNING" in down.stderr and "hub up" in down.stderr, down.stderr
    assert "Traceback" not in down.stderr
    elsewhere = cli(env, "cameras", "watch", "--host", "127.0.0.1:9")  # a hub this CLI never provisioned
    assert elsewhere.returncode == 2 and "HUB_NOT_PROVISIONED" in elsewhere.stderr, elsewhere.stderr

    with MjpegServer() as garage_stream, MjpegServer() as yard_stream:
        save(
            root / "config",
            [
                CameraConfig("garage", garage_stream.url, room="garage", zones=[LEFT], hold_s=1),
                CameraConfig("yard", yard_stream.url, zones=[RIGHT], hold_s=1),  # the still half: no motion
            ],
        )
        hub = HubProcess(root).start()
        try:
            # A token the hub does not know (its data reset): the first watch pairs the CLI with this
            # machine's hub again, saves the new token, and says which cameras it has.
            here = Context(EdgeSettings(config_dir=root / "config", data_dir=root / "data"))
            save_hub(here, hub.url, {"token": TOKEN_PREFIX + "not-a-token-this-hub-knows"})
            unknown = cli(env, "cameras", "watch", "attic")
            assert unknown.returncode == 2 and "CAMERA_NOT_FOUND" in unknown.stderr, unknown.stderr
            assert "garage" in unknown.stderr and "yard" in unknown.stderr, unknown.stderr
            token = saved_hubs(here)[hub.url]["token"]
            assert token.startswith(TOKEN_PREFIX) and "not-a-token" not in token, token

            everything = Watcher(hub.env, "--json")
            garage_only = Watcher(hub.env, "garage")

            def motion_seen(lines: list[str]) -> bool:
                return any('"kind":"motion"' in line and '"camera":"garage"' in line for line in lines)

            assert everything.until(motion_seen, 40), (everything.lines, hub.log.read_text()[-2000:])
            assert garage_only.until(lambda lines: any("  motion  Motion in the garage." in x for x in lines), 10)
            yard_stream.stop()  # the yard's camera goes away while both watch
            assert everything.until(lambda lines: any('"kind":"unavailable"' in x for x in lines), 30), everything.lines
            time.sleep(1.0)  # the filtered watcher had the same chance to print it
            assert garage_only.end() == 0, garage_only.stderr  # Ctrl-C: a clean end
            assert "Traceback" not in garage_only.stderr, garage_only.stderr
            apps = json.loads(cli(hub.env, "hub", "apps", "--json").stdout)  # the saved token was reused
            assert [a["name"] for a in apps] == ["companion CLI (cameras watch)"], apps
        finally:
            hub.stop()
        # The hub went away under the other watcher: a coded error, not a hang or a traceback.
        assert everything.end(sig=None) == 2, everything.stderr
        assert "HUB_GONE" in everything.stderr and "Traceback" not in everything.stderr, everything.stderr

    # What a hub that died leaves behind (its api.json, a pid no longer running): not running, said so.
    dead = subprocess.Popen(["true"])
    dead.wait()
    (root / "data" / "api.json").write_text(json.dumps({"host": "127.0.0.1", "port": 9, "pid": dead.pid}))
    stale = cli(env, "cameras", "watch")
    assert stale.returncode == 2 and "HUB_NOT_RUNNING" in stale.stderr, stale.stderr

    events = [json.loads(line) for line in everything.lines]
    assert all(e["type"] == "camera" for e in events), events
    garage_motion = next(e for e in events if e["camera"] == "garage" and e["kind"] == "motion")
    assert garage_motion["text"] == "Motion in the garage." and garage_motion["room"] == "garage"
    assert isinstance(garage_motion["at"], float)
    yard_gone = [e for e in events if e["camera"] == "yard" and e["kind"] == "unavailable"]
    assert yard_gone and yard_gone[0]["text"] == "The yard camera is unavailable.", events
    assert not [e for e in events if e["camera"] == "yard" and e["kind"] == "motion"], events
    # one line an event, each "HH:MM:SS  camera  kind  text"; the filter left the yard out
    assert garage_only.lines and all(line.split("  ")[1] == "garage" for line in garage_only.lines), garage_only.lines
    assert all(len(line.split("  ")) == 4 for line in garage_only.lines), garage_only.lines
