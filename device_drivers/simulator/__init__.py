"""Virtual devices of every kind and convention on a real broker (tests, demo, benchmarks)."""

from __future__ import annotations

import time
from collections.abc import Iterable

from device_drivers.mqtt_url import BrokerAddress
from device_drivers.simulator.config import device_from, load
from device_drivers.simulator.nodes import SimNode, nodes_for
from device_drivers.simulator.state import Faults, VirtualDevice


class Simulator:
    def __init__(self, url: str, devices: Iterable[VirtualDevice]) -> None:
        self.address = BrokerAddress.parse(url)
        self.devices = {d.id: d for d in devices}
        self.nodes: list[SimNode] = nodes_for(self.address, self.devices.values())

    def start(self, wait_s: float = 10.0) -> Simulator:
        for node in self.nodes:
            node.start()
        deadline = time.monotonic() + wait_s
        for node in self.nodes:
            if not node.connected.wait(max(0.0, deadline - time.monotonic())):
                raise TimeoutError(f"simulator could not reach the broker at {self.address}")
        return self

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()

    def node_of(self, device_id: str) -> SimNode:
        return next(n for n in self.nodes if any(d.id == device_id for d in n.devices))

    def drop(self, device_id: str) -> None:
        """The device's connection dies uncleanly; its last will marks it lost/offline."""
        self.node_of(device_id).drop()

    def __enter__(self) -> Simulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


__all__ = ["Faults", "Simulator", "VirtualDevice", "device_from", "load"]
