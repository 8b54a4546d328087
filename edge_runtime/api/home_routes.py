"""The home's hubs for the app (#21): this hub, and the other hubs of its home with their room, whether
they are online and where their own LAN API answers, so the app can talk to any of them."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from edge_runtime.api.auth import App, Hub
from edge_runtime.errors import EdgeError

router = APIRouter(prefix="/v1/home", tags=["home"])


@router.get("", summary="This hub's home: its hubs, rooms, online or not, and their LAN APIs")
async def home(hub: Hub, _: App) -> dict[str, Any]:
    peers = hub.peers
    if peers is None:
        raise EdgeError(
            "this hub runs no link to other hubs",
            code="PEERS_OFF",
            hint="run the hub with its device layer on a broker (COMPANION_PEERS_ENABLED=true)",
        )
    link = peers.link
    this = {"hub": link.hub_id, "name": link.name, "room": link.room, "online": True, "api": link.api, "this": True}
    others = [
        {"hub": p.hub, "name": p.name, "room": p.room, "online": p.online, "api": p.api, "this": False}
        for p in sorted(link.peers.values(), key=lambda p: (p.room or "", p.hub))
    ]
    return {"home_id": link.home.home_id, "hubs": [this, *others]}
