"""Linking a provisioned hub to the user's cloud account from another machine: the hub starts the
OAuth device grant with its own identity, polls, and keeps its own credentials. Plus the hub's
health checks, so `companion status --host` works from the operator's machine."""

from __future__ import annotations

import asyncio
import logging
import socket
from dataclasses import asdict
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from edge_runtime.api.auth import App, Hub
from edge_runtime.api.context import HubContext
from edge_runtime.cloud_client import CloudClient
from edge_runtime.errors import EdgeError
from edge_runtime.identity import HubFiles
from models.errors import CompanionError

log = logging.getLogger(__name__)
router = APIRouter(prefix="/v1")


class LinkRequest(BaseModel):
    cloud_url: str | None = Field(None, pattern=r"^https?://", max_length=300)
    name: str | None = Field(None, min_length=1, max_length=100)


def _files(hub: HubContext) -> HubFiles:
    return HubFiles(hub.settings.config_dir, hub.settings.data_dir)


def _linked(hub: HubContext) -> dict[str, Any] | None:
    files = _files(hub)
    return files.credentials(files.hub_credentials)


@router.get("/status", tags=["status"], summary="The hub's own checks, each with its fix")
async def status(hub: Hub, _: App, deep: bool = False) -> list[dict[str, Any]]:
    from edge_runtime.checks import run_checks

    results = await asyncio.to_thread(run_checks, hub.settings, hub.model_registry(), deep=deep)
    return [asdict(r) for r in results]


@router.get("/link", tags=["link"], summary="Whether the hub is linked to a cloud account")
async def link_state(hub: Hub, _: App) -> dict[str, Any]:
    saved = _linked(hub)
    if saved and hub.link.settled:
        return {"state": "linked", "cloud_url": saved.get("url"), "device_id": saved.get("device_id")}
    return {"state": "unlinked", **(hub.link.status.to_dict() if hub.link.status else {})}


@router.post(
    "/link",
    tags=["link"],
    status_code=202,
    summary="Start linking: the hub asks the cloud for a user code, then waits for approval",
)
async def start_link(body: LinkRequest, hub: Hub, _: App) -> dict[str, Any]:
    if _linked(hub) is not None:
        raise EdgeError("this hub is already linked", code="LINK_ALREADY", hint="unlink it first")
    identity = _files(hub).require_identity()
    client = CloudClient(body.cloud_url or hub.settings.cloud_url, _files(hub))
    grant = await asyncio.to_thread(
        client.start_link, identity.hub_id, body.name or hub.settings.hub_name or socket.gethostname()[:100]
    )
    pending = hub.link.start(client.base_url, grant)
    hub.link.task = asyncio.create_task(_wait(hub, client, grant))
    return pending.to_dict()


async def _wait(hub: HubContext, client: CloudClient, grant: dict[str, Any]) -> None:
    try:
        record = await asyncio.to_thread(client.wait_for_link, grant)
    except CompanionError as err:
        hub.link.failed(client.base_url, err.code, err.message)
        return
    except Exception as err:  # a malformed answer from the cloud: report it, don't stay "pending"
        log.exception("link.failed")
        message = f"the cloud's answer could not be used ({type(err).__name__})"
        hub.link.failed(client.base_url, "LINK_FAILED", message)
        return
    hub.link.linked(client.base_url, record.get("device_id"))
    hub.bus.publish("linked", cloud_url=client.base_url)


@router.delete("/link", tags=["link"], summary="Unlink: the cloud revokes this hub's credentials")
async def unlink(hub: Hub, _: App) -> dict[str, Any]:
    saved = _linked(hub)
    if saved is None:
        raise EdgeError("this hub is not linked", code="LINK_NONE")
    await asyncio.to_thread(CloudClient(saved.get("url") or hub.settings.cloud_url, _files(hub)).unlink)
    hub.link.unlinked()
    return {"state": "unlinked"}
