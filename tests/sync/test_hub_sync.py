"""The hub's side of sync: `companion sync status | now | log` against a real cloud, synced aliases
reaching the device registry, the profile reaching the brain, and memory kept offline."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from device_drivers.mosquitto import Mosquitto
from edge_runtime.brain.context import Conversation
from edge_runtime.brain.memory import LocalMemory
from edge_runtime.identity import HubFiles
from edge_runtime.settings import EdgeSettings
from edge_runtime.synced import apply_to_registry, open_replica, with_profile
from sync import Replica, sync_http
from tests.cloud.server import CloudServer, bearer, fresh_database, link_hub
from tests.eval.home import running_home

EXE = [sys.executable, "-m", "cli"]


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    with CloudServer(
        tmp_path_factory.mktemp("cloud"),
        services=["auth", "sync"],
        database_url=fresh_database(),
        device_code_interval_s="1",
    ) as server:
        yield server


def test_sync_cli_now_status_log(cloud: CloudServer, tmp_path: Path) -> None:
    settings = EdgeSettings(config_dir=tmp_path / "config", data_dir=tmp_path / "data", cloud_url=cloud.url)
    user = link_hub(cloud.url, HubFiles(settings.config_dir, settings.data_dir))
    replica = open_replica(settings)
    replica.doc.add_memory("the wifi password is on the fridge", source="hub")
    replica.doc.set_profile("name", "Ada")
    replica.store.close()
    env = {
        **os.environ,
        "COMPANION_CONFIG_DIR": str(settings.config_dir),
        "COMPANION_DATA_DIR": str(settings.data_dir),
        "COMPANION_CLOUD_URL": cloud.url,
    }

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*EXE, "sync", *args], env=env, capture_output=True, text=True, timeout=60, check=False)

    before = json.loads(cli("status", "--json").stdout)
    assert before["local"]["pending"] == 2 and before["local"]["memory_items"] == 1
    done = cli("now", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["acknowledged"] == 2
    after = json.loads(cli("status", "--json").stdout)
    assert after["local"]["pending"] == 0 and after["cloud"]["bytes"] > 50
    log = json.loads(cli("log", "--json").stdout)
    assert log[-1]["event"] == "synced" and log[-1]["acknowledged"] == 2
    # The user's own view of the cloud copy holds the hub's writes.
    phone = Replica.open(tmp_path / "phone.db")
    asyncio.run(sync_http(phone, cloud.url, user["access_token"]))
    assert phone.doc.to_py()["profile"]["name"] == "Ada"
    plain = cli("status")
    assert plain.returncode == 0 and "waiting to be sent" in plain.stderr
    unlinked = subprocess.run(
        [*EXE, "sync", "now"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**env, "COMPANION_CONFIG_DIR": str(tmp_path / "nowhere")},
    )
    assert unlinked.returncode == 2 and "CLOUD_NOT_SIGNED_IN" in unlinked.stderr and "Traceback" not in unlinked.stderr
    assert httpx.get(f"{cloud.url}/v1/sync/main", headers=bearer(user["access_token"])).status_code == 200


def test_synced_aliases_and_profile_reach_the_hub(mosquitto: Mosquitto, tmp_path: Path) -> None:
    replica = Replica.open(tmp_path / "sync.db")
    replica.doc.add_alias("ha:kitchen_light", "cooking light")  # given in the app
    replica.doc.set_profile("language", "de")
    replica.doc.set_profile("timezone", "Europe/Berlin")
    replica.doc.set_profile("name", "Ada")
    settings, name = with_profile(EdgeSettings(), replica)
    assert (settings.language, settings.timezone, name) == ("de", "Europe/Berlin", "Ada")

    async def scenario() -> tuple[int, str, list[str]]:
        async with running_home(mosquitto.url, tmp_path / "devices.sqlite3") as home:
            changed = apply_to_registry(replica, home.devices.registry)
            result = await home.brain.handle("turn on the cooking light", Conversation())
            return changed, result.route, [a["name"] for a in result.actions if a["confirmed"]]

    changed, route, acted = asyncio.run(scenario())
    assert changed == 1 and route == "local-intent" and acted == ["Kitchen Light"]


def test_memory_is_kept_and_recalled_offline(tmp_path: Path) -> None:
    from edge_runtime.brain.router import Brain
    from edge_runtime.clock import SystemClock
    from edge_runtime.skills.builtin import BuiltinSkills
    from edge_runtime.skills.timers import TimerManager

    async def ring(timer: object, repeat: int) -> None:
        return None

    replica = Replica.open(tmp_path / "sync.db")
    clock = SystemClock(None)
    brain = Brain(BuiltinSkills(clock, TimerManager(clock, ring)), memory=LocalMemory(replica.doc))

    async def scenario() -> list[tuple[str, str]]:
        out = []
        for text in (
            "Remember that the spare key is under the blue pot.",
            "what do you remember about the spare key?",
            "what is my favourite colour",
        ):
            result = await brain.handle(text)
            out.append((result.route, result.reply))
        return out

    kept, recalled, unknown = asyncio.run(scenario())
    assert kept == ("local-memory", "Okay, I'll remember that.")
    assert recalled == ("local-memory", "You told me: The spare key is under the blue pot")
    assert unknown[0] == "cloud"  # nothing local knows: the cloud (here: not linked) is asked
    assert replica.store.outbox(replica.name)  # waiting to sync, durable already
