"""The hub's telemetry against the real cloud (PostgreSQL), from real voice turns (real models): the
rollups show the hub's own local/cloud share and latencies; through a cut and a restore, and an
acknowledgement lost on the way, every turn arrives once; what was said only with the opt-in."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import AsyncExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from edge_runtime.checks import telemetry_backlog
from edge_runtime.engines import Engines
from edge_runtime.identity import HubFiles
from edge_runtime.settings import EdgeSettings
from edge_runtime.telemetry import Outbox, Sender, Telemetry, read_backlog, start_telemetry
from tests.cloud import server as cloud_server
from tests.cloud.server import CloudServer, bearer, fresh_database, link_hub
from tests.fakes.clock import FakeClock
from tests.harness import HubHarness
from tests.speech import Voices, join, silence

SERVICES = ["auth", "profile", "analytics"]
NOON = datetime(2026, 11, 24, 12, 5, tzinfo=UTC)
TIME, DATE, FLIGHT = "What time is it?", "What's the date today?", "Book me a flight to Paris."


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CloudServer]:
    with CloudServer(
        tmp_path_factory.mktemp("cloud"), services=SERVICES, database_url=fresh_database(), device_code_interval_s="1"
    ) as server:
        yield server


def linked(url: str, root: Path, **overrides: Any) -> tuple[EdgeSettings, dict[str, str]]:
    """A hub linked to a fresh user: its settings (telemetry left at its default) and the user."""
    settings = EdgeSettings(
        config_dir=root / "config",
        data_dir=root / "data",
        cloud_url=url,
        telemetry_interval_s=0.2,
        telemetry_max_backoff_s=0.5,
        **overrides,
    )
    return settings, link_hub(url, HubFiles(settings.config_dir, settings.data_dir))


async def talk(
    settings: EdgeSettings,
    engines: Engines,
    voices: Voices,
    said: list[str],
    *,
    drain: bool = True,
    tried: bool = False,
) -> dict[str, Any]:
    """A voice hub with telemetry, as `hub up` runs it: each request spoken after the wake word; then
    (drain) until the outbox is empty, or (tried) until a send has failed. Closes like a hub stopping."""
    async with AsyncExitStack() as stack:
        harness = await stack.enter_async_context(HubHarness(settings, engines, FakeClock(NOON)))
        telemetry = await start_telemetry(settings, harness.hub, stack)
        assert telemetry is not None
        for text in said:
            await harness.feed(join(silence(0.5), voices.piper("Hey Jarvis."), silence(0.3), voices.piper(text)))
        await harness.idle(0.5)
        await _until(telemetry, drain=drain, tried=tried)
        return {"recorded": telemetry.recorder.recorded, "replies": harness.replies()}


async def _until(telemetry: Telemetry, *, drain: bool, tried: bool, timeout_s: float = 20.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while asyncio.get_running_loop().time() < deadline:
        backlog = telemetry.outbox.backlog()
        if (drain and backlog.rows == 0) or (tried and backlog.last_error):
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"telemetry did not get there: {telemetry.outbox.backlog()}")


def analytics(url: str, user: dict[str, str], hub_id: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    with httpx.Client(base_url=url, headers=bearer(user["access_token"]), timeout=10) as http:
        rollups = http.get("/v1/analytics/rollups", params={"hub_id": hub_id}).json()
        events = http.get("/v1/analytics/events", params={"limit": 500}).json()
    return rollups, events


def hub_id(settings: EdgeSettings) -> str:
    return HubFiles(settings.config_dir, settings.data_dir).require_identity().hub_id


def test_real_turns_show_in_the_rollups(cloud: CloudServer, engines: Engines, voices: Voices, tmp_path: Path) -> None:
    settings, user = linked(cloud.url, tmp_path)
    done = asyncio.run(talk(settings, engines, voices, [TIME, DATE, FLIGHT]))
    assert done["recorded"] == 3, done
    [today], events = analytics(cloud.url, user, hub_id(settings))
    assert today["turns"] == 3 and today["errors"] == 1 and today["device_actions"] == 0
    # The harness's brain has no cloud link: the escalated turn is a cloud turn that answered "not linked".
    assert [(e["route"], e["error_code"]) for e in events if e["type"] == "error"] == [("cloud", "CLOUD_NOT_LINKED")]
    assert today["local_share"] == round(2 / 3, 4) and today["cloud_share"] == round(1 / 3, 4)
    turns = sorted((e for e in events if e["type"] == "turn"), key=lambda e: e["at"])
    assert [(e["route"], e["intent"]) for e in turns] == [
        ("builtin", "time"),
        ("builtin", "date"),
        ("cloud", "escalate"),
    ]
    for e in turns:  # the spoken turns' latency is what the user waited: end of speech to the first audio
        assert {"stt", "brain", "first_reply", "tts_first_audio", "response"} <= set(e["stages"]), e
        assert e["latency_ms"] == e["stages"]["response"] > 0 and e["transcript"] is None
    latencies = sorted(e["latency_ms"] for e in turns)
    assert today["p50_ms"] == latencies[1] and latencies[1] <= today["p95_ms"] <= latencies[2]
    assert read_backlog(settings.telemetry_db).rows == 0  # type: ignore[union-attr]


class CrashingOutbox(Outbox):
    """The hub dies after the cloud stored a batch and before the rows were deleted: the answer is lost."""

    def ack(self, event_ids: list[str], *, rejected: int = 0) -> None:
        raise RuntimeError("killed before deleting")


def test_cut_and_restore_every_turn_arrives_once(
    engines: Engines, voices: Voices, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    database = fresh_database()
    first = CloudServer(tmp_path / "cloud-1", services=SERVICES, database_url=database, device_code_interval_s="1")
    with first:
        settings, user = linked(first.url, tmp_path / "hub")
    # The link is cut: turns are recorded and wait in the outbox, through the hub's restart.
    cut = asyncio.run(talk(settings, engines, voices, [TIME, FLIGHT], drain=False, tried=True))
    assert cut["recorded"] == 2
    waiting = read_backlog(settings.telemetry_db)
    assert waiting is not None and (waiting.rows, waiting.sent, waiting.last_sent) == (2, 0, None)
    assert waiting.last_error is not None and "CLOUD_UNREACHABLE" in waiting.last_error
    shown = telemetry_backlog(settings)  # `companion status`, with the hub stopped
    assert shown.status == "ok" and shown.detail.startswith("2 turn(s) waiting") and "never sent" in shown.detail
    # The cloud is back (same address, same database). The first send is stored, but its answer is lost.
    monkeypatch.setattr(cloud_server, "free_port", lambda: first.port)  # the same address
    with CloudServer(tmp_path / "cloud-2", services=SERVICES, database_url=database):
        crashing = CrashingOutbox(settings.telemetry_db)
        client_files = HubFiles(settings.config_dir, settings.data_dir)

        async def lost_ack() -> None:
            from edge_runtime.cloud_client import CloudClient

            client = CloudClient(first.url, client_files)

            async def token() -> str:
                return await asyncio.to_thread(client.hub_token)

            sender = Sender(crashing, first.url, token)
            with pytest.raises(RuntimeError, match="killed before deleting"):
                await sender.flush()
            await sender.close()

        asyncio.run(lost_ack())
        crashing.close()
        rollups, _ = analytics(first.url, user, hub_id(settings))
        assert rollups[0]["turns"] == 2  # the cloud holds them; the hub does not know it
        assert read_backlog(settings.telemetry_db).rows == 2  # type: ignore[union-attr]
        # The hub starts again, hears one more turn, and sends everything it holds.
        again = asyncio.run(talk(settings, engines, voices, [DATE]))
        assert again["recorded"] == 1
        [today], events = analytics(first.url, user, hub_id(settings))
    assert today["turns"] == 3 and today["local_share"] == round(2 / 3, 4) and today["cloud_share"] == round(1 / 3, 4)
    assert sorted(e["intent"] for e in events if e["type"] == "turn") == ["date", "escalate", "time"]
    done = read_backlog(settings.telemetry_db)
    assert done is not None and (done.rows, done.sent, done.last_error) == (0, 3, None) and done.last_sent
    assert "0 turn(s) waiting" in telemetry_backlog(settings).detail


def test_no_transcript_leaves_the_hub_without_the_opt_in(
    cloud: CloudServer, engines: Engines, voices: Voices, tmp_path: Path
) -> None:
    settings, user = linked(cloud.url, tmp_path)
    with httpx.Client(base_url=cloud.url, headers=bearer(user["access_token"])) as http:  # the cloud would keep it
        assert http.patch("/v1/profile", json={"preferences": {"store_transcripts": True}}).status_code == 200
    asyncio.run(talk(settings, engines, voices, [TIME]))
    asyncio.run(talk(settings.model_copy(update={"telemetry_transcripts": True}), engines, voices, [DATE]))
    _, events = analytics(cloud.url, user, hub_id(settings))
    said = {e["intent"]: e["transcript"] for e in events if e["type"] == "turn"}
    assert said["time"] is None
    assert said["date"] is not None and "date" in said["date"].lower()


def test_telemetry_is_on_only_for_a_linked_hub_unless_told(tmp_path: Path) -> None:
    async def started(settings: EdgeSettings) -> bool:
        from edge_runtime.app_events import TurnStream
        from edge_runtime.trace import Tracer

        voice = type("Voice", (), {"events": TurnStream(), "tracer": Tracer()})()
        async with AsyncExitStack() as stack:
            return await start_telemetry(settings, voice, stack) is not None

    settings = EdgeSettings(config_dir=tmp_path / "config", data_dir=tmp_path / "data")
    files = HubFiles(settings.config_dir, settings.data_dir)
    files.init()
    assert not asyncio.run(started(settings))  # not linked
    assert asyncio.run(started(settings.model_copy(update={"telemetry_enabled": True})))  # it waits for a link
    files.save_credentials(files.hub_credentials, {"url": "http://127.0.0.1:9", "access_token": "x"})
    assert asyncio.run(started(settings))
    assert not asyncio.run(started(settings.model_copy(update={"telemetry_enabled": False})))


def test_the_hubs_cloud_clients_refresh_its_token_one_at_a_time(cloud: CloudServer, tmp_path: Path) -> None:
    """Telemetry, escalation and sync each hold a CloudClient on the same credentials; a refresh token
    spent twice revokes the hub's whole token family, so their refreshes must not race."""
    from concurrent.futures import ThreadPoolExecutor
    from threading import Barrier

    from edge_runtime.cloud_client import CloudClient

    settings, _ = linked(cloud.url, tmp_path)
    files = HubFiles(settings.config_dir, settings.data_dir)
    barrier = Barrier(4)  # the clients ask at the same moment

    def refresh(client: CloudClient) -> str:
        barrier.wait()
        return client.hub_token()

    for _ in range(3):
        creds = files.credentials(files.hub_credentials)
        assert creds is not None
        files.save_credentials(files.hub_credentials, {**creds, "expires_at": 0})  # due for a refresh
        clients = [CloudClient(cloud.url, files) for _ in range(4)]
        with ThreadPoolExecutor(len(clients)) as pool:
            tokens = list(pool.map(refresh, clients))
        assert len(set(tokens)) == 1  # one refresh; the others read its result
        assert clients[0].me(tokens[0])["device_id"]
