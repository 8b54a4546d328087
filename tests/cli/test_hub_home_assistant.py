"""`companion hub up` with Home Assistant on both sides, as a user runs it: its Wyoming services
answer the `wyoming` client, and its entities appear over MQTT discovery, follow a spoken turn,
and go unavailable when the process is killed (the broker sends the hub's last will)."""

from __future__ import annotations

import asyncio
import re
import signal
import threading
import time
from collections.abc import Iterator

import numpy as np
import pytest

from device_drivers.mosquitto import Mosquitto, free_port
from device_drivers.simulator import Simulator, device_from
from tests.cli.hub_process import HubProcess
from tests.edge_runtime import wyoming_client as wy
from tests.edge_runtime.ha_subscriber import HaSubscriber
from tests.eval.home import home_config
from tests.speech import Voices, join, silence


def words(text: str) -> str:
    return re.sub(r"[^a-z0-9 ]", "", text.lower()).strip()


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Mosquitto, Simulator]]:
    broker = Mosquitto(tmp_path_factory.mktemp("broker")).start()
    with Simulator(broker.url, [device_from(d) for d in home_config()["devices"]]) as sim:
        yield broker, sim
    broker.stop()


@pytest.fixture(scope="module")
def ha(home: tuple[Mosquitto, Simulator]) -> Iterator[HaSubscriber]:
    subscriber = HaSubscriber(home[0].url)
    yield subscriber
    subscriber.close()


class LiveMic:
    """Feeds the hub's stdin as a microphone does: an 80 ms block every 80 ms, silence unless told to say something."""

    def __init__(self, hub: HubProcess) -> None:
        self.hub, self.queue = hub, np.zeros(0, dtype=np.float32)
        self.lock, self.running = threading.Lock(), True
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

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


class MicHub(HubProcess):
    mic: LiveMic


@pytest.fixture(scope="module")
def hub(
    home: tuple[Mosquitto, Simulator], ha: HaSubscriber, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[MicHub]:
    process = MicHub(
        tmp_path_factory.mktemp("hub"),
        mqtt_url=home[0].url,
        llm_enabled="false",
        hub_name="Kitchen hub",
        room="Kitchen",
        wyoming_enabled="true",
        wyoming_port=str(free_port()),
        ha_presence_enabled="true",
    )
    process.start()
    assert ha.wait(lambda: ha.available("assist_state") == "online", 30), process.log.read_text()[-3000:]
    process.mic = LiveMic(process)
    yield process
    process.mic.running = False
    process.stop()


def wyoming_port(hub: HubProcess) -> int:
    return int(hub.env["COMPANION_WYOMING_PORT"])


def test_home_assistant_gets_a_transcript_from_the_running_hub(hub: HubProcess, voices: Voices) -> None:
    info = asyncio.run(wy.describe(wyoming_port(hub)))
    assert info.asr and info.tts and info.wake and info.handle  # one port, every service
    audio = join(silence(0.3), voices.piper("Turn off the bedroom light."), silence(0.8))
    got = asyncio.run(wy.transcribe(wyoming_port(hub), audio))
    assert words(got.first("transcript").data["text"]) == "turn off the bedroom light"


def test_home_assistant_gets_audio_from_the_running_hub(hub: HubProcess) -> None:
    got = asyncio.run(wy.synthesize(wyoming_port(hub), "Hello from the kitchen.", name="en_US-joe-medium"))
    audio, rate = wy.pcm_audio(got.events)
    assert got.types()[-1] == "audio-stop" and rate == 22050 and np.abs(audio).max() > 0.1


def test_home_assistant_gets_a_wake_detection_from_the_running_hub(hub: HubProcess, voices: Voices) -> None:
    audio = join(silence(0.5), voices.espeak("Hey Jarvis."), silence(1.0))
    got = asyncio.run(wy.detect(wyoming_port(hub), audio, names=["hey_jarvis"]))
    assert [e.data["name"] for e in got.events if e.type == "detection"] == ["hey_jarvis"]


def test_home_assistant_gets_an_answer_that_acts(hub: HubProcess, home: tuple[Mosquitto, Simulator]) -> None:
    _, sim = home
    assert sim.devices["kitchen_light"].state.get("on") is not True
    got = asyncio.run(wy.ask(wyoming_port(hub), "Turn on the kitchen light"))
    assert got.first("handled").data["context"]["route"] == "local-intent", got.events
    assert sim.devices["kitchen_light"].state.get("on") is True  # done, and confirmed by the light's state echo


def test_the_hub_is_one_device_in_home_assistant_that_follows_a_turn(
    hub: MicHub, ha: HaSubscriber, voices: Voices
) -> None:
    assert ha.wait(lambda: len(ha.configs) == 8)
    assert {c["device"]["name"] for c in ha.configs.values()} == {"Kitchen hub"}
    assert ha.entity("mute")["device"]["suggested_area"] == "Kitchen"
    assert ha.entity("wake_word")["options"] == ["alexa", "hey_jarvis", "hey_mycroft", "hey_rhasspy"]
    assert ha.state("wake_word") == "hey_jarvis" and ha.state("mute") == "OFF" and ha.state("volume") == "100"
    turn = join(silence(0.5), voices.piper("Hey Jarvis."), silence(0.3), voices.piper("What time is it?"), silence(3))
    hub.mic.say(turn)
    assert ha.wait(lambda: ha.history("assist_state")[-1:] == ["idle"] and "speaking" in ha.history("assist_state"), 30)
    states = [s for i, s in enumerate(ha.history("assist_state")) if i == 0 or s != ha.history("assist_state")[i - 1]]
    assert states[-4:] == ["listening", "thinking", "speaking", "idle"]
    assert words(ha.state("last_transcript") or "") == "what time is it"
    assert (ha.state("last_reply") or "").startswith("It")
    # the hub's device layer saw its own entities come back through discovery and left them alone
    assert not any("companion" in e.get("device", "") for e in hub.logs() if e.get("event") == "hub.device-added")


def test_muted_from_home_assistant_the_hub_does_not_listen(hub: MicHub, ha: HaSubscriber, voices: Voices) -> None:
    ha.command("mute", "ON")
    assert ha.wait(lambda: ha.state("mute") == "ON")
    heard = len(ha.history("assist_state"))
    hub.mic.say(join(voices.piper("Hey Jarvis."), silence(0.3), voices.piper("What time is it?"), silence(2)))
    time.sleep(5)
    assert ha.history("assist_state")[heard:] == []  # the microphone fed silence: no wake word, no turn
    ha.command("mute", "OFF")
    assert ha.wait(lambda: ha.state("mute") == "OFF")


def test_killing_the_hub_marks_it_offline(hub: HubProcess, ha: HaSubscriber) -> None:
    assert ha.available("assist_state") == "online"
    hub.proc.send_signal(signal.SIGKILL)
    hub.proc.wait(10)
    assert ha.wait(lambda: ha.available("assist_state") == "offline", 10)  # the broker sent the hub's last will
    assert ha.status_seen == []  # nobody published Home Assistant's birth topic: the hub never does
