"""The hub's replica of the user's synced document: where it lives, how it reaches the cloud,
and what the hub takes from it (the user's name, language and timezone)."""

from __future__ import annotations

import asyncio
import random

from edge_runtime.cloud_client import CloudClient
from edge_runtime.devices.registry import DeviceRegistry
from edge_runtime.identity import HubFiles
from edge_runtime.settings import EdgeSettings
from sync import LiveSync, Replica


def open_replica(settings: EdgeSettings, *, own_writer: bool = False) -> Replica:
    """`own_writer`: for a command that may run while `hub up` holds the same replica; its writes go
    as a Yjs client of their own, so neither side's writes can shadow the other's."""
    client_id = random.SystemRandom().randrange(1, 2**32) if own_writer else None
    return Replica.open(settings.data_dir / "sync.sqlite3", client_id=client_id)


def cloud_client(settings: EdgeSettings) -> CloudClient:
    files = HubFiles(settings.config_dir, settings.data_dir)
    saved = files.credentials(files.hub_credentials) or {}
    return CloudClient(str(saved.get("url") or settings.cloud_url), files)


def live_sync(settings: EdgeSettings, replica: Replica) -> LiveSync | None:
    """The background link for a linked hub; None if this hub is not linked."""
    client = cloud_client(settings)
    if not client.files.credentials(client.files.hub_credentials):
        return None

    async def token() -> str:
        return await asyncio.to_thread(client.hub_token)

    return LiveSync(replica, client.base_url, token)


def with_profile(settings: EdgeSettings, replica: Replica) -> tuple[EdgeSettings, str | None]:
    """Settings with the synced profile's language and timezone (when the user set them), and their name."""
    profile = replica.doc.profile.to_py()
    update = {k: profile[k] for k in ("language", "timezone") if profile.get(k)}
    return (settings.model_copy(update=update) if update else settings), profile.get("name") or None


def apply_to_registry(replica: Replica, registry: DeviceRegistry) -> int:
    """Aliases and room names the user gave on any replica, into the hub's registry. Returns the
    number of devices changed. Aliases only add here: removing one is an edit on some replica."""
    changed = 0
    aliases = replica.doc.device_aliases()
    rooms = replica.doc.rooms.to_py()
    for rec in list(registry.records.values()):
        extra = [a for a in aliases.get(rec.id, []) if a not in {x.lower() for x in rec.aliases}]
        room = rooms.get((rec.area or "").lower()) if rec.area else None
        if extra or (room and room != rec.area):
            registry.edit(
                rec.id,
                aliases=[*rec.aliases, *extra] if extra else None,
                area=room if room and room != rec.area else None,
            )
            changed += 1
    return changed


def record_edit(replica: Replica, device_id: str, aliases: list[str] | None, area: str | None) -> None:
    """A user's edit on this hub, into the synced document (so the app and other hubs get it)."""
    for alias in aliases or []:
        replica.doc.add_alias(device_id, alias)
    if area:
        replica.doc.name_room(area, area)
