"""The evaluation home running: simulator on a real broker, the hub's device layer, and the brain."""

from __future__ import annotations

import tomllib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from device_drivers.simulator import Simulator, device_from
from edge_runtime.brain.device_skill import DeviceSkill
from edge_runtime.brain.escalate import Escalator
from edge_runtime.brain.memory import LocalMemory
from edge_runtime.brain.router import Brain, BrainPolicy
from edge_runtime.clock import SystemClock
from edge_runtime.devices import DeviceHub
from edge_runtime.skills.builtin import BuiltinSkills
from edge_runtime.skills.lists import ListSkill
from edge_runtime.skills.timers import TimerManager
from models.llm import LLM
from sync.document import SyncedDoc

HOME = Path(__file__).with_name("home.toml")
HOUSE = Path(__file__).with_name("house.toml")  # the issue #16 home: 5 floors, seven "Phone" sensors


@dataclass
class RunningHome:
    sim: Simulator
    devices: DeviceHub
    brain: Brain

    def states(self) -> dict[str, dict[str, Any]]:
        return {d.name: dict(d.state) for d in self.sim.devices.values()}

    def states_by_id(self) -> dict[str, dict[str, Any]]:
        """The simulator's own truth, by the fixture's ids (seven devices may share a name)."""
        return {d.id: dict(d.state) for d in self.sim.devices.values()}


def home_config(path: Path = HOME) -> dict[str, Any]:
    return tomllib.loads(path.read_text())


@asynccontextmanager
async def running_home(
    broker_url: str,
    db: Path,
    *,
    llm: LLM | None = None,
    cloud: Escalator | None = None,
    language: str = "en",
    policy: BrainPolicy | None = None,
    config: dict[str, Any] | None = None,
    room: str | None = None,
    doc: SyncedDoc | None = None,
) -> AsyncIterator[RunningHome]:
    """`room`: where the hub stands ("turn on the lights" then means that room's). `doc`: the synced
    document, for the memory and the lists; without one the lists are kept in a document of their own
    and "remember that ..." goes to the cloud."""
    config = config or home_config()
    specs = config["devices"]

    async def ring(timer: object, repeat: int) -> None:
        return None

    clock = SystemClock(None)
    timers = TimerManager(clock, ring)
    virtual = [device_from(d) for d in specs]
    for vdev, spec in zip(virtual, specs, strict=True):
        vdev.state.update(spec.get("state", {}))
    with Simulator(broker_url, virtual) as sim:
        hub = await DeviceHub(broker_url, db).start()
        await hub.settle(quiet_s=0.3, max_s=10)
        for floor, areas in config.get("floors", {}).items():
            for area in areas:
                hub.registry.set_floor(area, floor)
        by_native = {rec.id.split(":", 1)[1].split("/")[0]: rec.id for rec in hub.registry.records.values()}
        for spec in specs:  # the user places each device (Zigbee2MQTT and Homie announce no room)
            ref = by_native.get(str(spec["id"]), spec["name"])  # by id: seven devices may share a name
            hub.registry.edit(ref, area=spec.get("area"), aliases=spec.get("aliases"))
        hub.registry.home_area = room
        skill = DeviceSkill(hub, language=language)
        memory = LocalMemory(doc) if doc is not None else None
        lists = ListSkill(doc or SyncedDoc()) if language == "en" else None
        brain = Brain(
            BuiltinSkills(clock, timers),
            skill,
            llm=llm,
            cloud=cloud,
            policy=policy,
            language=language,
            memory=memory,
            lists=lists,
        )
        try:
            yield RunningHome(sim, hub, brain)
        finally:
            await timers.close()
            await hub.stop()
