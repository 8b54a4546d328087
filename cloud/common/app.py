"""The app factory, written once: every service runs alone or mounted with the others."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from cloud.common import errors
from cloud.common.authz import Authz
from cloud.common.db import make_engine, migrate
from cloud.common.errors import CacheUnavailable, body
from cloud.common.metrics import Metrics, SyncBacklog, check_scraper
from cloud.common.middleware import Guard, Observe
from cloud.common.ratelimit import make_limiter
from cloud.common.routes import include, index
from cloud.common.service import Service
from cloud.common.settings import CloudSettings
from cloud.common.store import make_store
from cloud.common.tokens import AccessTokens
from common.asgi import BodyLimit

log = logging.getLogger("cloud")


def all_services() -> dict[str, Service]:
    from cloud.analytics import service as analytics
    from cloud.auth import service as auth
    from cloud.chat import service as chat
    from cloud.escalation import service as escalation
    from cloud.notification import service as notification
    from cloud.profile import service as profile
    from cloud.rag import service as rag
    from cloud.sync import service as sync
    from cloud.translation import service as translation
    from cloud.vision import service as vision
    from cloud.voice import service as voice

    every = (auth, profile, chat, escalation, sync, rag, analytics, translation, notification, vision, voice)
    return {s.name: s for s in every}


def create_app(settings: CloudSettings, services: list[str] | None = None) -> FastAPI:
    known = all_services()
    chosen = [known[name] for name in (services or list(known))]

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = make_engine(settings.db_url)
        await migrate(engine)
        app.state.engine = engine
        app.state.sessions = async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)
        app.state.store = make_store(settings.redis_url, on_error=metrics.cache_errors.inc)
        app.state.limiter = make_limiter(app.state.store)
        app.state.authz = Authz(
            app.state.sessions,
            app.state.store,
            ok_ttl_s=settings.auth_cache_ttl_s,
            final_ttl_s=settings.access_token_ttl_s,
        )
        try:
            await app.state.authz.rebuild()  # revocations survive a restart of the cloud and of Redis
        except CacheUnavailable:
            log.warning("authz.cache_unavailable_at_start", extra={"code": "CACHE_UNAVAILABLE"})
        for svc in chosen:
            if svc.startup:
                await svc.startup(app)
        log.info(
            "cloud.up",
            extra={
                "services": [s.name for s in chosen],
                "db": engine.url.get_backend_name(),
                "cache": "redis" if settings.redis_url else "memory",
            },
        )
        # What start-up made (modules, routes, models, the ORM's mappings) lives as long as the
        # process: kept out of the collector's scans, a request's garbage collection is about its own
        # objects. Without this, with 50 requests in flight, the full collections that their
        # surviving objects set off scanned the whole heap, about a third of a cheap request's CPU.
        gc.collect()
        gc.freeze()
        try:
            yield
        finally:
            gc.unfreeze()
            for svc in reversed(chosen):
                if svc.shutdown:
                    await svc.shutdown(app)
            await app.state.store.close()
            await engine.dispose()

    about = "Escalated requests from hubs, auth, and the LLM gateway (OpenAI-compatible)."
    docs, schema = ("/docs", "/openapi.json") if settings.api_docs else (None, None)
    app = FastAPI(
        title="Companion cloud",
        version="0.1.0",
        lifespan=lifespan,
        description=about,
        docs_url=docs,
        redoc_url=None,
        openapi_url=schema,
    )
    app.state.settings = settings
    app.state.signing_key = settings.signing_key()
    app.state.access_tokens = AccessTokens(app.state.signing_key)
    app.state.services = [s.name for s in chosen]
    metrics = Metrics()
    backlog = SyncBacklog(app)
    metrics.registry.register(backlog)
    app.state.metrics = metrics
    app.state.embedder, app.state.embedder_lock = None, asyncio.Lock()  # cloud/common/embedding.py
    errors.install(app)
    for svc in chosen:
        include(app, svc.router)  # flat: cloud/common/routes.py

    @app.get("/health", tags=["platform"], summary="Liveness and dependencies; needs no token")
    async def health(request: Request) -> dict[str, Any]:
        store_ok = await request.app.state.store.ping()
        try:
            async with request.app.state.sessions() as s:
                await s.exec(select(1))
            db_ok = True
        except Exception:
            db_ok = False
        return {
            "status": "ok" if store_ok and db_ok else "degraded",
            "db": db_ok,
            "cache": store_ok,
            "services": request.app.state.services,
        }

    @app.get("/metrics", tags=["platform"], summary="Prometheus metrics: the operator's metrics token, or loopback")
    async def prometheus(_: Annotated[None, Depends(check_scraper)]) -> Response:
        try:
            await backlog.refresh()
        except Exception:  # a scrape still answers while the database is down; the error is counted
            metrics.db_errors.labels("scrape").inc()
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    index(app)  # after the last route: cloud/common/routes.py
    own_limits = {"/v1/vision/": settings.vision_max_bytes, "/v1/voice/": settings.voice_max_bytes}
    app.add_middleware(Guard)  # innermost: it sees what the exception handlers did not answer
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes, routes=own_limits, error=_error_body)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_credentials=True,
            allow_methods=["*"],
            allow_headers=["Authorization", "Content-Type"],
        )
    app.add_middleware(Observe, metrics=metrics)
    return app


def _error_body(code: str, message: str, status: int) -> dict[str, Any]:
    return body(code, message, status=status)
