"""analytics: batched events from hubs (turns, latencies, routes, errors, device actions), stored
once by event id; daily rollups per hub; transcripts kept only when the user opted in."""

from __future__ import annotations

import statistics
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import col, select

from cloud.common.auth import require
from cloud.common.db import SessionDep
from cloud.common.errors import ApiError
from cloud.common.service import Service
from cloud.common.tokens import Principal
from cloud.tables import AnalyticsEvent, Profile

router = APIRouter(prefix="/v1/analytics", tags=["analytics"])
Reporter = Annotated[Principal, Depends(require("analytics"))]
LOCAL_ROUTES = {"builtin", "local-intent", "local-memory", "local-llm", "confirm"}


class EventIn(BaseModel):
    event_id: str = Field(min_length=8, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")
    hub_id: str = Field(min_length=1, max_length=128)
    type: Literal["turn", "error", "device"]
    at: datetime
    route: str | None = Field(None, max_length=16)
    intent: str | None = Field(None, max_length=64)
    latency_ms: float | None = Field(None, ge=0, le=3_600_000)
    error_code: str | None = Field(None, max_length=64)
    device: str | None = Field(None, max_length=128)
    transcript: str | None = Field(None, max_length=2000)
    stages: dict[Annotated[str, Field(max_length=32)], Annotated[float, Field(ge=0, le=3_600_000)]] | None = Field(
        None, max_length=16
    )  # a turn's latency stage by stage (ms): wake, endpoint, stt, brain, device, tts_first_audio, response


class Batch(BaseModel):
    events: list[EventIn] = Field(min_length=1, max_length=1000)


@router.post("/events", summary="Report a batch of events (idempotent by event id)")
async def ingest(batch: Batch, session: SessionDep, principal: Reporter) -> dict[str, int]:
    profile = await session.get(Profile, principal.user_id)
    keep_transcripts = bool(profile and profile.preferences.get("store_transcripts") is True)
    rows = []
    for e in batch.events:
        if e.at.tzinfo is None:
            raise ApiError("event times need a timezone offset", code="ANALYTICS_NAIVE_TIME", status=422)
        row = e.model_dump()
        row["transcript"] = row["transcript"] if keep_transcripts else None
        rows.append({"user_id": principal.user_id, **row})
    dialect = session.bind.dialect.name if session.bind is not None else "postgresql"
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = insert(AnalyticsEvent).values(rows).on_conflict_do_nothing(index_elements=["user_id", "event_id"])
    result = await session.execute(statement)
    await session.commit()
    stored = max(0, int(getattr(result, "rowcount", 0) or 0))
    return {"received": len(rows), "stored": stored, "duplicates": len(rows) - stored}


class Rollup(BaseModel):
    day: date
    hub_id: str
    turns: int
    local_share: float
    cloud_share: float
    p50_ms: float | None
    p95_ms: float | None
    errors: int
    device_actions: int


@router.get("/rollups", summary="Per day and per hub: turns, local vs cloud, latency p50/p95, errors")
async def rollups(
    session: SessionDep,
    principal: Reporter,
    days: Annotated[int, Query(ge=1, le=366)] = 7,
    hub_id: Annotated[str | None, Query(max_length=128)] = None,
) -> list[Rollup]:
    since = datetime.now(UTC) - timedelta(days=days)
    query = select(AnalyticsEvent).where(
        col(AnalyticsEvent.user_id) == principal.user_id, col(AnalyticsEvent.at) >= since
    )
    if hub_id:
        query = query.where(col(AnalyticsEvent.hub_id) == hub_id)
    groups: dict[tuple[date, str], list[AnalyticsEvent]] = defaultdict(list)
    for event in (await session.execute(query)).scalars():
        groups[(event.at.astimezone(UTC).date(), event.hub_id)].append(event)
    return [_rollup(day, hub, events) for (day, hub), events in sorted(groups.items())]


def _rollup(day: date, hub: str, events: list[AnalyticsEvent]) -> Rollup:
    turns = [e for e in events if e.type == "turn"]
    latencies = sorted(e.latency_ms for e in turns if e.latency_ms is not None)
    local = sum(1 for e in turns if e.route in LOCAL_ROUTES)
    cloud = sum(1 for e in turns if e.route == "cloud")
    return Rollup(
        day=day,
        hub_id=hub,
        turns=len(turns),
        local_share=round(local / len(turns), 4) if turns else 0.0,
        cloud_share=round(cloud / len(turns), 4) if turns else 0.0,
        p50_ms=_percentile(latencies, 50),
        p95_ms=_percentile(latencies, 95),
        errors=sum(1 for e in events if e.type == "error"),
        device_actions=sum(1 for e in events if e.type == "device"),
    )


def _percentile(values: list[float], p: int) -> float | None:
    if not values:
        return None
    if len(values) == 1:
        return round(values[0], 2)
    return round(statistics.quantiles(values, n=100, method="inclusive")[p - 1], 2)


@router.get("/events", summary="The user's most recent events")
async def recent(
    session: SessionDep, principal: Reporter, limit: Annotated[int, Query(ge=1, le=500)] = 50
) -> list[dict[str, Any]]:
    query = (
        select(AnalyticsEvent)
        .where(col(AnalyticsEvent.user_id) == principal.user_id)
        .order_by(col(AnalyticsEvent.at).desc())
        .limit(limit)
    )
    return [e.model_dump(exclude={"user_id"}) for e in (await session.execute(query)).scalars()]


service = Service("analytics", router)
