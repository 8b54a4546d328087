"""What an operator's Prometheus sees: the hub and the cloud scraped with their metrics tokens after
one real voice turn on a running hub (Mosquitto and a simulated light) and one chat completion."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest

from device_drivers.mosquitto import Mosquitto
from device_drivers.simulator import Simulator, device_from
from tests.cli.hub_process import HubProcess
from tests.cloud.conftest import METRICS_TOKEN
from tests.cloud.server import CloudServer, bearer, signup
from tests.speech import Voices, join, silence

HUB_TOKEN = "hub-metrics-" + "h" * 24
STAGES = ("wake", "endpoint", "stt", "brain", "device", "tts_first_audio", "response")


class Mic:
    """The hub's stdin as a live microphone: an 80 ms block every 80 ms, silence unless told otherwise."""

    def __init__(self, hub: HubProcess) -> None:
        self.hub, self.queue, self.running = hub, np.zeros(0, dtype=np.float32), True
        self.lock = threading.Lock()
        threading.Thread(target=self._run, daemon=True).start()

    def say(self, audio: np.ndarray) -> None:
        with self.lock:
            self.queue = np.concatenate([self.queue, audio])

    def _run(self) -> None:
        block, started, n = 1280, time.monotonic(), 0
        while self.running:
            with self.lock:
                out, self.queue = self.queue[:block], self.queue[block:]
            out = np.concatenate([out, np.zeros(block - len(out), dtype=np.float32)])
            try:
                self.hub.write_pcm((out * 32767).astype("<i2").tobytes())
            except (BrokenPipeError, ValueError, OSError):
                return
            n += 1
            time.sleep(max(0.0, started + n * block / 16000 - time.monotonic()))


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[tuple[HubProcess, Simulator]]:
    broker = Mosquitto(tmp_path / "broker").start()
    light = device_from({"id": "kitchen_light", "name": "Kitchen Light", "kind": "light", "convention": "ha"})
    try:
        with Simulator(broker.url, [light]) as sim:
            process = HubProcess(tmp_path / "hub", mqtt_url=broker.url, llm_enabled="false", metrics_token=HUB_TOKEN)
            try:
                yield process.start(), sim
            finally:
                process.stop()
    finally:
        broker.stop()


def count(text: str, series: str, **labels: str) -> float:
    """The value of one sample (0 when absent)."""
    want = ",".join(f'{k}="{v}"' for k, v in labels.items())
    pattern = rf"^{re.escape(series)}(?:\{{{re.escape(want)}\}})? ([0-9.e+-]+)$" if want else rf"^{series} (\S+)$"
    found = re.search(pattern, text, re.M)
    return float(found.group(1)) if found else 0.0


def test_hub_and_cloud_export_turn_and_llm_histograms(
    hub: tuple[HubProcess, Simulator], voices: Voices, cloud: CloudServer, client: httpx.Client
) -> None:
    process, sim = hub
    scrape = f"{process.url}/metrics"
    refused = httpx.get(scrape, headers=bearer("an app's token, not the metrics token"))
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "METRICS_TOKEN_INVALID"
    assert httpx.get(scrape).json()["error"]["code"] == "METRICS_TOKEN_MISSING"

    mic = Mic(process)
    mic.say(join(silence(1.0), voices.piper("Hey Jarvis."), silence(0.4), voices.piper("Turn on the kitchen light.")))
    text, deadline = "", time.monotonic() + 90
    while time.monotonic() < deadline:
        text = httpx.get(scrape, headers=bearer(HUB_TOKEN)).text
        # A command acted on at a short pause has spoken before its endpoint (#18): wait for every stage.
        if all(count(text, "companion_hub_turn_stage_seconds_count", stage=stage) >= 1 for stage in STAGES):
            break
        time.sleep(0.5)
    mic.running = False
    for stage in STAGES:
        assert count(text, "companion_hub_turn_stage_seconds_count", stage=stage) >= 1, (stage, text)
        if stage != "stt":  # 0 s is a real STT wait: a transcript made at a pause was ready at the cut
            assert count(text, "companion_hub_turn_stage_seconds_sum", stage=stage) > 0, stage
    assert count(text, "companion_hub_turns_total", route="local-intent") == 1
    assert count(text, "companion_hub_device_commands_total", outcome="confirmed") == 1
    assert sim.devices["kitchen_light"].state.get("on") is True
    assert count(text, "companion_hub_mqtt_connected") == 1
    assert re.search(r"^companion_hub_websockets_open 0\.0$", text, re.M), "no open WebSockets, and said so"

    token = signup(client)["access_token"]
    for _ in range(3):  # tokens/s needs two tokens or more: the small base model may answer in one
        llm = client.post(
            "/v1/chat/completions",
            headers=bearer(token),
            json={"messages": [{"role": "user", "content": "List three colours of the rainbow."}], "max_tokens": 16},
        )
        assert llm.status_code == 200
        if llm.json()["usage"]["completion_tokens"] > 1:
            break
    cloud_text = client.get("/metrics", headers=bearer(METRICS_TOKEN)).text
    assert count(cloud_text, "companion_llm_first_token_seconds_count", upstream="builtin") >= 1
    assert count(cloud_text, "companion_llm_tokens_per_second_count", upstream="builtin") >= 1
    assert "companion_http_request_seconds_bucket" in cloud_text and "companion_sync_backlog_updates" in cloud_text
    # Exported at 0 before the first error, so an alert on its rate sees the first one.
    for kind in ("unavailable", "internal"):
        assert re.search(rf'^companion_db_errors_total\{{kind="{kind}"\}} 0\.0$', cloud_text, re.M), kind
