"""The cloud's Prometheus series, and who may scrape them: an operator's metrics token, never a
user's bearer token (operations data is not any user's to read). Without a configured token the
route answers 401 METRICS_TOKEN_NOT_SET."""

from __future__ import annotations

import hmac
from typing import Any

from fastapi import Request
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from cloud.common.errors import ApiError, CacheUnavailable, Unauthorized

LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
RATE_BUCKETS = (1, 5, 10, 20, 40, 80, 160, 320, 640)


class Metrics:
    """One registry per app (tests run several in a process); every series is named here."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter(
            "companion_http_requests_total", "HTTP requests", ["method", "route", "status"], registry=r
        )
        self.latency = Histogram(
            "companion_http_request_seconds", "HTTP request latency", ["method", "route"], registry=r
        )
        self.websockets_open = Gauge(
            "companion_websockets_open", "WebSocket connections open now", ["route"], registry=r
        )
        self.websockets = Counter(
            "companion_websockets_total", "WebSocket connections accepted or refused", ["route"], registry=r
        )
        self.first_token = Histogram(
            "companion_llm_first_token_seconds",
            "Time to an upstream's first token",
            ["upstream"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.tokens_per_s = Histogram(
            "companion_llm_tokens_per_second",
            "Completion tokens per second after the first",
            ["upstream"],
            buckets=RATE_BUCKETS,
            registry=r,
        )
        self.tokens = Counter(
            "companion_llm_completion_tokens_total", "Completion tokens generated", ["upstream"], registry=r
        )
        self.fallbacks = Counter(
            "companion_llm_fallbacks_total",
            "An upstream failed and the next was tried",
            ["upstream", "reason"],
            registry=r,
        )
        self.db_errors = Counter("companion_db_errors_total", "Database errors answered as 5xx", ["kind"], registry=r)
        for kind in DB_ERROR_KINDS:  # exported at 0 from the start, so an alert on its rate sees the first error
            self.db_errors.labels(kind)
        self.cache_errors = Counter(
            "companion_cache_errors_total", "Redis errors (unreachable or timed out)", registry=r
        )
        self.api_key_auth = Counter(
            "companion_api_key_auth_total", "Requests authenticated by an API key", ["outcome"], registry=r
        )

    def dependency_error(self, exc: ApiError) -> None:
        if isinstance(exc, CacheUnavailable):
            return  # counted where Redis failed (the store), once per failure
        self.db_errors.labels("unavailable").inc()


DB_ERROR_KINDS = ("unavailable", "internal", "scrape")


class SyncBacklog(Collector):
    """Sync updates stored but not yet folded into a snapshot: compaction falling behind shows here.
    Read at scrape time (a count over an indexed table), not kept in step by hand."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.value = 0.0

    def collect(self) -> Any:
        family = GaugeMetricFamily("companion_sync_backlog_updates", "Sync updates awaiting compaction")
        family.add_metric([], self.value)
        yield family

    async def refresh(self) -> None:
        from sqlalchemy import func
        from sqlmodel import select

        from cloud.tables import SyncUpdate

        async with self.app.state.sessions() as s:
            self.value = float((await s.exec(select(func.count()).select_from(SyncUpdate))).one())


async def check_scraper(request: Request) -> None:
    """The metrics token (COMPANION_CLOUD_METRICS_TOKEN) as a bearer token; none set: refused."""
    settings = request.app.state.settings
    header = request.headers.get("authorization", "")
    given = header[7:].strip() if header.lower().startswith("bearer ") else ""
    if settings.metrics_token is None:  # no route but health goes without a credential
        raise Unauthorized(
            "/metrics is off until a metrics token is set",
            code="METRICS_TOKEN_NOT_SET",
            hint="set COMPANION_CLOUD_METRICS_TOKEN, and scrape with it as a bearer token",
        )
    if not given:
        raise Unauthorized(
            "/metrics needs the metrics token",
            code="METRICS_TOKEN_MISSING",
            hint="send Authorization: Bearer <COMPANION_CLOUD_METRICS_TOKEN>",
        )
    if not hmac.compare_digest(given.encode(), settings.metrics_token.get_secret_value().encode()):
        raise Unauthorized("this is not the metrics token", code="METRICS_TOKEN_INVALID")
