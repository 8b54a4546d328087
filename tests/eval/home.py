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
from edge_runtime.brain.router import Brain, BrainPolicy
from edge_runtime.clock import SystemClock
from edge_runtime.devices import DeviceHub
from edge_runtime.skills.builtin import BuiltinSkills
from edge_runtime.skills.timers import TimerManager
from models.llm import LLM

HOME = Path(__file__).with_name("home.toml")


@dataclass
class RunningHome:
    sim: Simulator
    devices: DeviceHub
    brain: Brain

    def states(self) -> dict[str, dict[str, Any]]:
        return {d.name: dict(d.state) for d in self.sim.devices.values()}


def home_config(path: Path = HOME) -> dict[str, Any]:
    return tomllib.loads(path.read_text())


@asynccontextmanager
async def running_home(broker_url: str, db: Path, *, llm: LLM | None = None, cloud: Escalator | None = None,
                       language: str = "en", policy: BrainPolicy | None = None,
                       config: dict[str, Any] | None = None) -> AsyncIterator[RunningHome]:  # fmt: skip
    config = config or home_config()
    specs = config["devices"]

    async def ring(timer: object, repeat: int) -> None:
        return None

    clock = SystemClock(None)
    timers = TimerManager(clock, ring)
    with Simulator(broker_url, [device_from(d) for d in specs]) as sim:
        hub = await DeviceHub(broker_url, db).start()
        await hub.settle(quiet_s=0.3, max_s=10)
        for floor, areas in config.get("floors", {}).items():
            for area in areas:
                hub.registry.set_floor(area, floor)
        for spec in specs:  # the user places each device (Zigbee2MQTT and Homie announce no room)
            hub.registry.edit(spec["name"], area=spec.get("area"), aliases=spec.get("aliases"))
        skill = DeviceSkill(hub, language=language)
        brain = Brain(BuiltinSkills(clock, timers), skill, llm=llm, cloud=cloud, policy=policy, language=language)
        try:
            yield RunningHome(sim, hub, brain)
        finally:
            await timers.close()
            await hub.stop()
