"""A home on the bench: a real `companion hub up` inside its own network namespace (tests/netns/lab.py),
Mosquitto and simulated devices on its LAN side, the real cloud (PostgreSQL, Redis) on its WAN side
behind a link the test cuts, restores, or slows (tests/netns/proxy.py), and the hub linked to a
fresh cloud user. The hub reaches the cloud at http:// (plain HTTP on the namespace link, so that
a capture sees every payload); the test reaches the hub's LAN API as a paired app would."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import numpy as np

from device_drivers.mosquitto import Mosquitto, free_port
from device_drivers.simulator import Simulator, device_from
from edge_runtime.identity import HubFiles
from edge_runtime.settings import EdgeSettings
from tests.cli.hub_process import EXE, HubProcess, cli, hub_env
from tests.cloud.server import CloudServer, bearer, fresh_database, fresh_redis, link_hub
from tests.edge_runtime.vision_stream import MjpegServer
from tests.netns.capture import Capture
from tests.netns.lab import HubNamespace
from tests.netns.proxy import DelayProxy
from tests.speech import Voices, join, silence

SERVICES = ["auth", "profile", "analytics", "escalation", "sync", "notification"]  # all a hub talks to
REDIS_DB = 12  # this package's own Redis database (flushed at start)
DEVICES = [
    {"id": "kitchen_light", "name": "Kitchen Light", "kind": "light", "convention": "ha"},
    {"id": "hall_plug", "name": "Hall Plug", "kind": "switch", "convention": "ha"},
]
FIRST_REPLY_S = 15.0  # the hub's escalation budget for first words (cloud_first_reply_s); the CI box is loaded
BLOCK = 1280  # 80 ms of 16 kHz audio, as a microphone delivers it


class NetnsHub(HubProcess):
    """`companion hub up --stdin` run with `ip netns exec`: HubProcess's life cycle, in the namespace."""

    def __init__(self, ns: HubNamespace, root: Path, **settings: str) -> None:
        self.root = root
        self.env = hub_env(root, **settings)
        self.log = root / "hub.log"
        root.mkdir(parents=True, exist_ok=True)
        args = ["--log-level", "INFO", "hub", "up", "--stdin", "--out", str(root / "speaker.wav")]
        self.proc = subprocess.Popen(
            [*ns.exec_prefix, *EXE, *args],
            env=self.env,
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=self.log.open("w"),
        )
        self.port = 0

    def events(self, name: str) -> list[dict[str, Any]]:
        return [r for r in self.logs() if r.get("event") == name]


class Microphone:
    """80 ms blocks to the hub's stdin in real time: silence, or what the test says."""

    def __init__(self, hub: HubProcess) -> None:
        self.hub = hub
        self.pending = np.zeros(0, np.float32)
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True, name="microphone")

    def say(self, audio: np.ndarray) -> None:
        with self.lock:
            self.pending = np.concatenate([self.pending, audio])

    def quiet(self) -> bool:
        with self.lock:
            return len(self.pending) == 0

    def _run(self) -> None:
        started, blocks = time.monotonic(), 0
        while not self.stopping.is_set():
            with self.lock:
                block, self.pending = self.pending[:BLOCK], self.pending[BLOCK:]
            pcm = np.zeros(BLOCK, np.int16)
            pcm[: len(block)] = np.clip(block * 32767, -32768, 32767).astype(np.int16)
            try:
                self.hub.write_pcm(pcm.tobytes())
            except (BrokenPipeError, OSError, ValueError):
                return
            blocks += 1
            time.sleep(max(0.0, started + blocks * BLOCK / 16000 - time.monotonic()))


@dataclass
class Home:
    ns: HubNamespace
    cloud: CloudServer
    proxy: DelayProxy
    hub: NetnsHub
    mic: Microphone
    app: httpx.Client  # the paired app, on the LAN side
    user: dict[str, str]
    settings: EdgeSettings  # the hub's, as the test reads its files
    capture: Capture  # tshark on the hub's WAN interface, from before the hub started
    sim: Simulator  # the devices on the LAN side; each keeps every command it received
    hub_settings: dict[str, str]  # the hub's environment (COMPANION_*), to start it again

    def restart_hub(self) -> None:
        """`kill -9` the hub and start it again on the same files; the app keeps its pairing token."""
        self.kill_hub()
        self.start_hub()

    def kill_hub(self) -> None:
        """`kill -9` the hub; it stays down until `start_hub()` (the test may look at its files meanwhile)."""
        self.mic.stopping.set()
        self.hub.proc.kill()
        self.hub.proc.wait()

    def start_hub(self) -> None:
        self.hub = NetnsHub(self.ns, self.hub.root, **self.hub_settings)
        (self.hub.root / "data" / "api.json").unlink(missing_ok=True)  # the dead hub's port
        self.hub.start(timeout_s=180)
        self.mic = Microphone(self.hub)
        self.mic.thread.start()
        self.app.base_url = httpx.URL(f"http://{self.ns.lan_hub}:{self.hub.port}")

    @property
    def hub_id(self) -> str:
        return HubFiles(self.settings.config_dir, self.settings.data_dir).require_identity().hub_id

    def ask(self, text: str) -> tuple[dict[str, Any], float]:
        """Ask in text over the LAN API; the answer and how long it took (s)."""
        started = time.perf_counter()
        answer = self.app.post("/v1/ask", json={"text": text})
        assert answer.status_code == 200, answer.text
        return dict(answer.json()), time.perf_counter() - started

    def say(self, speech: np.ndarray, turns: int = 1, timeout_s: float = 60) -> None:
        """Speak; wait until the hub has decided `turns` more turns (its `hub.skill` log lines)."""
        before = len(self.hub.events("hub.skill"))
        self.mic.say(speech)
        wait_for(lambda: len(self.hub.events("hub.skill")) >= before + turns, timeout_s, "the spoken turn", self)

    def outbox(self) -> list[dict[str, Any]]:
        """The telemetry records waiting in the hub's outbox (read from its SQLite file)."""
        with closing(sqlite3.connect(f"file:{self.settings.telemetry_db}?mode=ro", uri=True, timeout=10)) as db:
            return [json.loads(body) for (body,) in db.execute("SELECT body FROM outbox ORDER BY seq")]

    def analytics(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """The cloud's rollups for this hub and the user's events, asked directly (not via the hub)."""
        with httpx.Client(base_url=self.cloud.url, headers=bearer(self.user["access_token"]), timeout=10) as http:
            rollups = http.get("/v1/analytics/rollups", params={"hub_id": self.hub_id}).json()
            events = http.get("/v1/analytics/events", params={"limit": 500}).json()
        return rollups, events

    def inbox(self) -> list[dict[str, Any]]:
        """The user's notifications in the cloud (the camera's events land here), asked directly."""
        with httpx.Client(base_url=self.cloud.url, headers=bearer(self.user["access_token"]), timeout=10) as http:
            return list(http.get("/v1/notifications").json())

    def tail(self) -> str:
        return self.hub.log.read_text()[-3000:]


def spoken(voices: Voices, text: str) -> np.ndarray:
    """`text` said after the wake word, then a pause for the hub to answer."""
    return join(voices.piper("Hey Jarvis."), silence(0.3), voices.piper(text), silence(2.0))


def wait_for(check: Callable[[], Any], timeout_s: float, what: str, home: Home | None = None) -> Any:
    deadline = time.monotonic() + timeout_s
    while not (found := check()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s} s: {what}\n{home.tail() if home else ''}")
        time.sleep(0.1)
    return found


@contextmanager
def edge_home(root: Path) -> Iterator[Home]:
    """Everything up, in order; everything down again, namespaces included, however the test ends."""
    with ExitStack() as stack:
        ns = stack.enter_context(HubNamespace())
        capture = stack.enter_context(Capture(ns, root / "wan.pcapng"))
        lan_port = free_port()
        broker = Mosquitto(root / "broker", extra=(f"listener {lan_port} {ns.lan_host}",)).start()
        stack.callback(broker.stop)
        sim = stack.enter_context(Simulator(broker.url, [device_from(d) for d in DEVICES]))
        cloud = stack.enter_context(
            CloudServer(
                root / "cloud",
                services=SERVICES,
                database_url=fresh_database(),
                redis_url=fresh_redis(REDIS_DB),
                device_code_interval_s="1",
            )
        )
        proxy = stack.enter_context(DelayProxy(ns.wan_host, "127.0.0.1", cloud.port))
        hub_root = root / "hub"
        # A camera on the LAN side (an IP camera's MJPEG; a box moves across it 4-7 s of every 12):
        # its motion events reach the cloud as text, its frames never.
        camera = stack.enter_context(MjpegServer(host=ns.lan_host))
        zone = ["--zone", "0,0,0.5,1", "--hold", "1"]  # the box's walk: 4 % of the zone moves
        added = cli(hub_env(hub_root), "cameras", "add", "garage", camera.url, "--room", "Garage", *zone)
        assert added.returncode == 0, added.stderr
        settings = EdgeSettings(config_dir=hub_root / "config", data_dir=hub_root / "data", cloud_url=proxy.url)
        user = link_hub(proxy.url, HubFiles(settings.config_dir, settings.data_dir))  # over the WAN link
        hub_settings = {
            "mqtt_url": f"mqtt://{ns.lan_host}:{lan_port}",
            "api_host": ns.lan_hub,
            "cloud_url": proxy.url,
            "cloud_first_reply_s": str(FIRST_REPLY_S),
            "telemetry_interval_s": "0.3",
            "telemetry_max_backoff_s": "1",
            "timer_alert_repeats": "1",  # a timer rings once, and is out of the way of the next turn
        }
        hub = NetnsHub(ns, hub_root, **hub_settings)
        stack.callback(hub.stop)  # a hub that fails to start is stopped too
        hub.start(timeout_s=180)
        mic = Microphone(hub)
        mic.thread.start()
        code = json.loads(cli(hub.env, "hub", "pair-code", "--new", "--json").stdout)["code"]
        app = stack.enter_context(httpx.Client(base_url=f"http://{ns.lan_hub}:{hub.port}", timeout=60))
        paired = app.post("/v1/pairing", json={"code": code, "name": "phone"})
        assert paired.status_code == 201, paired.text
        app.headers["Authorization"] = f"Bearer {paired.json()['token']}"
        home = Home(ns, cloud, proxy, hub, mic, app, user, settings, capture, sim, hub_settings)
        stack.callback(lambda: home.hub.stop())  # the hub running at the end, after any restart
        stack.callback(home.mic.stopping.set)
        yield home
