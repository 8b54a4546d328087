"""The router on the simulated home: tool calls validated before acting, streaming replies, and
escalation to a real cloud process, including a cloud that is down, hangs, or revoked this hub."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from common.escalation import ReplyDelta, StreamDone
from device_drivers.mosquitto import Mosquitto, free_port
from edge_runtime.brain.context import Conversation
from edge_runtime.brain.escalate import CloudUnavailable, Escalator
from edge_runtime.brain.factory import escalator_from
from edge_runtime.cloud_client import CloudClient
from edge_runtime.identity import HubFiles
from edge_runtime.settings import EdgeSettings
from models.errors import LlmError
from models.llm import LLM
from tests.cloud.server import CloudServer, Silent, fresh_database, link_hub
from tests.eval.home import running_home
from tests.fakes.llm import FakeLLM

Spoken = list[tuple[str, bool, float]]


def _speaker() -> tuple[Spoken, Any]:
    spoken: Spoken = []

    async def speak(sentence: str, final: bool) -> None:
        spoken.append((sentence, final, time.perf_counter()))

    return spoken, speak


def run_brain(
    mosquitto: Mosquitto, tmp_path: Path, text: str, *, llm: LLM | None = None, cloud: Escalator | None = None
) -> tuple[Any, Spoken, dict[str, list[Any]]]:
    async def scenario() -> tuple[Any, Spoken, dict[str, list[Any]]]:
        spoken, speak = _speaker()
        async with running_home(mosquitto.url, tmp_path / "d.sqlite3", llm=llm, cloud=cloud) as home:
            result = await home.brain.handle(text, Conversation(), speak)
            received = {d.name: list(d.received) for d in home.sim.devices.values() if d.received}
        if cloud is not None:
            await cloud.close()
        return result, spoken, received

    return asyncio.run(scenario())


def test_an_invalid_tool_call_sends_nothing(mosquitto: Mosquitto, tmp_path: Path) -> None:
    llm = FakeLLM(fake_tool_call={"device": "garage light", "attribute": "on", "value": True})
    result, spoken, received = run_brain(mosquitto, tmp_path, "the garage needs like 40 percent", llm=llm)
    assert result.route == "local-llm" and "tool-invalid" in result.signals
    assert result.data["error"] == "CONTRADICTS_REQUEST" and result.actions == [] and received == {}
    # The schema offered only the devices the sentence named, by room, of a kind its words fit (no
    # verb: on/off, so not the garage door): the model could not pick another.
    offered = llm.schemas[0]["properties"]["device"]["enum"]
    assert sorted(offered) == ["garage light"]
    assert spoken == [(result.reply, True, spoken[0][2])]


def test_a_valid_tool_call_acts_and_is_confirmed(mosquitto: Mosquitto, tmp_path: Path) -> None:
    llm = FakeLLM(fake_tool_call={"device": "garage light", "attribute": "on", "value": True})
    result, _, received = run_brain(mosquitto, tmp_path, "could you get the garage light going", llm=llm)
    assert result.route == "local-llm" and "tool-valid" in result.signals
    assert [(a["name"], a["values"], a["confirmed"]) for a in result.actions] == [("Garage Light", {"on": True}, True)]
    assert list(received) == ["Garage Light"]


def test_a_failing_llm_hands_the_turn_on(mosquitto: Mosquitto, tmp_path: Path) -> None:
    llm = FakeLLM(fake_exception=LlmError("out of memory"))
    result, _, received = run_brain(mosquitto, tmp_path, "could you get the coffee maker going", llm=llm)
    assert result.route == "cloud" and received == {}


def test_small_talk_streams_sentence_by_sentence(mosquitto: Mosquitto, tmp_path: Path) -> None:
    llm = FakeLLM(fake_text="Good morning to you. I hope you slept well. Tell me more.", piece_delay_s=0.05)
    result, spoken, _ = run_brain(mosquitto, tmp_path, "good morning", llm=llm)
    assert result.route == "local-llm" and result.intent == "small-talk"
    assert [(s, final) for s, final, _ in spoken] == [
        ("Good morning to you.", False),
        ("I hope you slept well.", False),
        ("", True),
    ]
    # The first sentence went to TTS while the model was still writing the second.
    assert spoken[0][2] < llm.piece_times[-1]


def test_small_talk_with_the_real_model(mosquitto: Mosquitto, tmp_path: Path, llm: LLM) -> None:
    result, spoken, received = run_brain(mosquitto, tmp_path, "hello there", llm=llm)
    assert result.route == "local-llm" and result.reply and spoken[-1][1] is True and received == {}
    assert len(result.reply) < 300


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    with CloudServer(
        tmp_path_factory.mktemp("cloud"),
        services=["auth", "profile", "escalation"],
        database_url=fresh_database(),
        device_code_interval_s="1",
        escalation_temperature="0",  # greedy: the same answer every run (at 0.4 the 270M model once said
        # "France is the capital of France.")
    ) as server:
        yield server


def linked_hub(cloud: CloudServer, tmp_path: Path, **overrides: Any) -> EdgeSettings:
    settings = EdgeSettings(
        config_dir=tmp_path / "config",
        data_dir=tmp_path / "data",
        cloud_url=cloud.url,
        cloud_first_reply_s=30,
        **overrides,
    )
    link_hub(cloud.url, HubFiles(settings.config_dir, settings.data_dir))
    return settings


def test_escalation_streams_the_clouds_reply(mosquitto: Mosquitto, tmp_path: Path, cloud: CloudServer) -> None:
    escalator = escalator_from(linked_hub(cloud, tmp_path))
    assert escalator is not None
    result, spoken, received = run_brain(mosquitto, tmp_path, "what is the capital of France?", cloud=escalator)
    assert result.route == "cloud" and "knowledge" in result.signals and "fallback" not in result.data
    assert "Paris" in result.reply and spoken and spoken[-1][1] is True and received == {}
    assert " ".join(s for s, _, _ in spoken if s) == result.reply
    assert result.timings_ms["first_sentence"] <= result.timings_ms["cloud"]


def test_an_unreachable_cloud_gets_a_local_answer_quickly(mosquitto: Mosquitto, tmp_path: Path) -> None:
    nobody = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    escalator = Escalator(nobody, "hub", _token, first_reply_s=2.0, total_s=5.0)
    started = time.monotonic()
    result, spoken, _ = run_brain(mosquitto, tmp_path, "who wrote hamlet", cloud=escalator)
    assert result.route == "cloud" and result.data["fallback"] == "CLOUD_UNREACHABLE"
    assert result.reply.startswith("I can't reach the cloud right now") and spoken
    assert time.monotonic() - started < 15  # the home's start-up included; the turn itself is far quicker
    assert result.timings_ms["total"] < 2500


async def _token() -> str:
    return "a-token"


def test_a_hanging_cloud_is_cut_off_at_its_budget(mosquitto: Mosquitto, tmp_path: Path) -> None:
    silent = Silent()
    try:
        escalator = Escalator(silent.url.removesuffix("/v1"), "hub", _token, first_reply_s=1.0, total_s=3.0)
        result, _, _ = run_brain(mosquitto, tmp_path, "why is the sky blue", cloud=escalator)
    finally:
        silent.close()
    assert result.data["fallback"] == "CLOUD_TIMEOUT" and result.reply.startswith("The cloud is taking too long")
    assert 900 <= result.timings_ms["total"] < 2000


def test_a_revoked_hub_is_told_so(mosquitto: Mosquitto, tmp_path: Path, cloud: CloudServer) -> None:
    settings = linked_hub(cloud, tmp_path)
    CloudClient(cloud.url, HubFiles(settings.config_dir, settings.data_dir)).unlink()
    escalator = escalator_from(settings)
    assert escalator is not None
    result, _, _ = run_brain(mosquitto, tmp_path, "who wrote hamlet", cloud=escalator)
    assert result.route == "cloud" and result.data["fallback"] == "CLOUD_NOT_LINKED"
    assert result.reply.startswith("I'm not linked to the cloud")


def test_the_clouds_stream_is_read_with_the_clouds_own_models() -> None:
    """SSE framing (comments, a `data` split over lines) is the library's; an event the wire's models
    do not describe is a coded error the brain answers locally, never a crash or a silent drop."""

    def stream(events: list[str]) -> httpx.MockTransport:
        body = "".join(events).encode()
        sse = {"content-type": "text/event-stream"}
        return httpx.MockTransport(lambda _: httpx.Response(200, content=body, headers=sse))

    async def token() -> str:
        return "t"

    async def heard(events: list[str]) -> list[str]:
        escalator = Escalator("http://cloud.test", "hub-1", token, transport=stream(events))
        try:
            return [piece async for piece in escalator.stream([{"role": "user", "text": "hi"}], {"language": "en"})]
        finally:
            await escalator.close()

    good = [
        ": keep-alive\n\n",
        f"data: {ReplyDelta(text='Hello').model_dump_json()}\n\n",
        'data: {"type": "reply.delta",\ndata:  "text": " there"}\n\n',
        f"data: {StreamDone(reply='Hello there').model_dump_json()}\n\n",
        'data: {"type": "reply.delta", "text": "late"}\n\n',
    ]
    assert asyncio.run(heard(good)) == ["Hello", " there"]  # nothing after `done`
    with pytest.raises(CloudUnavailable) as bad:
        asyncio.run(heard(['data: {"type": "reply.delta"}\n\n']))  # no text: not an event of the wire
    assert bad.value.code == "CLOUD_ERROR"
    with pytest.raises(CloudUnavailable) as failed:
        asyncio.run(heard(['data: {"type": "error", "code": "UPSTREAM_DOWN", "message": "no model"}\n\n']))
    assert (failed.value.code, failed.value.message) == ("CLOUD_ERROR", "no model")
