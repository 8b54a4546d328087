"""The hub's parts as typed route dependencies: a route names the part it needs and gets it, or the
coded error that says the part is not running on this hub. FastAPI resolves them in the order a
route lists them: list these after `App`, so an unpaired caller is told 401 before anything else."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from edge_runtime.api.auth import Hub
from edge_runtime.api.context import WebRtcHost
from edge_runtime.brain.router import Brain
from edge_runtime.devices.hub import DeviceHub
from edge_runtime.errors import EdgeError


def devices(hub: Hub) -> DeviceHub:
    if hub.devices is None:
        raise EdgeError(
            "the device layer is not running on this hub",
            code="DEVICES_OFF",
            hint="start the hub with devices (no --no-devices)",
        )
    return hub.devices


def brain(hub: Hub) -> Brain:
    if hub.brain is None:
        raise EdgeError("the hub's brain is not running", code="BRAIN_OFF")
    return hub.brain


def sessions(hub: Hub) -> WebRtcHost:
    if hub.webrtc is None:
        raise EdgeError(
            "WebRTC is not running on this hub",
            code="WEBRTC_OFF",
            hint="install the edge extra (aiortc) and start the hub with the API",
        )
    return hub.webrtc


def pinned(hub: Hub) -> frozenset[str]:
    """Settings the hub's environment sets: they win over what provisioning saves."""
    return frozenset(hub.pinned())


Devices = Annotated[DeviceHub, Depends(devices)]
HubBrain = Annotated[Brain, Depends(brain)]
Sessions = Annotated[WebRtcHost, Depends(sessions)]
Pinned = Annotated[frozenset[str], Depends(pinned)]
