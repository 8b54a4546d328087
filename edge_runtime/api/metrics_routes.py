"""GET /metrics on the LAN API, for an operator's Prometheus: the metrics token
(COMPANION_METRICS_TOKEN) as a bearer token, never an app's pairing token. Without a token set it
answers 401 METRICS_TOKEN_NOT_SET: no route but health and pairing goes without a credential."""

from __future__ import annotations

import hmac
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from edge_runtime.api.context import HubContext
from edge_runtime.metrics import HubMetrics, sync_backlog
from models.errors import CompanionError

router = APIRouter(tags=["platform"])
STATUS = {"METRICS_TOKEN_MISSING": 401, "METRICS_TOKEN_INVALID": 401, "METRICS_TOKEN_NOT_SET": 401}


def hub_metrics(hub: HubContext) -> HubMetrics:
    """One set per hub context, made on first use and fed by every pipeline attach_voice sees."""
    found: HubMetrics | None = getattr(hub, "_metrics", None)
    if found is None:
        found = HubMetrics()
        found.watch(lambda: _read(hub))
        setattr(hub, "_metrics", found)  # noqa: B010 - HubContext is not ours to add a field to
    return found


def _read(hub: HubContext) -> dict[str, float]:
    values: dict[str, float] = {}
    link = getattr(hub.devices, "link", None)
    if link is not None:
        values["companion_hub_mqtt_connected"] = float(link.connected.is_set())
        values["companion_hub_mqtt_connects"] = float(link.connects)
    values["companion_hub_websockets_open"] = float(sum(getattr(hub, "_streams", {}).values()))
    if hub.webrtc is not None:
        values["companion_hub_webrtc_sessions"] = float(len(hub.webrtc))
    backlog = sync_backlog(hub.settings.data_dir / "sync.sqlite3")
    if backlog is not None:
        values["companion_hub_sync_backlog_updates"] = backlog
    llm = getattr(hub.brain, "llm", None)
    if llm is not None and hasattr(llm, "tokens_per_s"):
        values["companion_hub_llm_tokens_per_second"] = float(llm.tokens_per_s)
        values["companion_hub_llm_tokens"] = float(llm.tokens_out)
    return values


def check_scraper(request: Request, token: Any) -> None:
    header = request.headers.get("authorization", "")
    given = header[7:].strip() if header.lower().startswith("bearer ") else ""
    if token is None:  # every route but health and pairing needs a credential: no token, no scrape
        raise CompanionError(
            "/metrics is off until a metrics token is set",
            code="METRICS_TOKEN_NOT_SET",
            hint="set COMPANION_METRICS_TOKEN on the hub, and scrape with it as a bearer token",
        )
    if not given:
        raise CompanionError(
            "/metrics needs the metrics token",
            code="METRICS_TOKEN_MISSING",
            hint="send Authorization: Bearer <COMPANION_METRICS_TOKEN>",
        )
    if not hmac.compare_digest(given.encode(), token.get_secret_value().encode()):
        raise CompanionError("this is not the metrics token", code="METRICS_TOKEN_INVALID")


@router.get("/metrics", summary="Prometheus metrics, for the metrics token")
async def metrics(request: Request) -> Response:
    hub: HubContext = request.app.state.hub
    check_scraper(request, hub.settings.metrics_token)
    setattr(hub, "_streams", request.app.state.streams)  # noqa: B010 - open event streams, counted by the app
    return Response(generate_latest(hub_metrics(hub).registry), media_type=CONTENT_TYPE_LATEST)
