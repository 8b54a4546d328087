"""The hub as Home Assistant's local voice services, over the Wyoming protocol (docs/HOME_ASSISTANT.md).

`asr` (speech-to-text, with partial transcripts), `tts` (streamed sentence by sentence), `wake`
(wake word detection) and `handle` (the hub's brain answers, and acts on its devices), all on one
port, with the hub's already loaded engines.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from edge_runtime.engines import Engines
from edge_runtime.settings import EdgeSettings
from edge_runtime.wyoming.errors import WyomingError
from edge_runtime.wyoming.server import WyomingServer
from edge_runtime.wyoming.services import Services, services_from
from edge_runtime.wyoming.wire import Limits
from models.registry import Registry

if TYPE_CHECKING:
    from edge_runtime.brain.router import Brain

log = logging.getLogger(__name__)


async def serve_wyoming(
    settings: EdgeSettings, engines: Engines, registry: Registry, *, brain: Brain | None, hub_id: str
) -> WyomingServer | None:
    """Start the server as `hub up` does; a port already taken is logged and voice goes on without it."""
    services = services_from(settings, engines, registry, brain)
    server = WyomingServer(
        services,
        host=settings.wyoming_host,
        port=settings.wyoming_port,
        max_clients=settings.wyoming_max_clients,
        idle_timeout_s=settings.wyoming_idle_timeout_s,
    )
    try:
        await server.start()
    except OSError as err:
        log.error(
            "wyoming.failed",
            extra={
                "port": settings.wyoming_port,
                "error": str(err),
                "fix": "set COMPANION_WYOMING_PORT to a free port",
            },
        )
        return None
    if settings.wyoming_mdns:
        try:
            await server.advertise(hub_id, settings.hub_name)
        except Exception as err:  # mDNS is a convenience: Home Assistant can still add host and port by hand
            log.warning("wyoming.mdns_failed", extra={"error": str(err)})
    return server


__all__ = ["Limits", "Services", "WyomingError", "WyomingServer", "serve_wyoming", "services_from"]
