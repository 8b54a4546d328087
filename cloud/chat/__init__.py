"""chat: the LLM gateway, OpenAI-compatible, over the built-in model and any OpenAI-style server;
and /v1/embeddings."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI

from cloud.chat import embeddings
from cloud.chat.gateway import Gateway
from cloud.chat.router import router as chat_router
from cloud.chat.upstreams import LlamaUpstream, OpenAIUpstream, Upstream
from cloud.common.service import Service


async def start_gateway(app: FastAPI) -> None:
    """Shared by chat and escalation: built once per app, whichever service asks first."""
    if getattr(app.state, "gateway", None) is not None:
        return
    settings = app.state.settings
    upstreams: list[Upstream] = []
    key = settings.llm_upstream_api_key.get_secret_value() if settings.llm_upstream_api_key else None
    for url in settings.llm_upstreams:
        remote = OpenAIUpstream(url, api_key=key, timeout_s=settings.llm_timeout_s)
        await remote.refresh_models()
        upstreams.append(remote)
    if settings.llm_builtin:
        from models.registry import Registry

        builtin = LlamaUpstream(
            Registry().path(settings.llm_model_id),
            settings.llm_model_id,
            threads=settings.llm_threads,
            context=settings.llm_context,
        )
        await builtin.load()
        upstreams.append(builtin)
    app.state.gateway = Gateway(
        upstreams,
        first_token_timeout_s=settings.llm_first_token_timeout_s,
        total_timeout_s=settings.llm_timeout_s,
        retries=settings.llm_retries,
        max_tokens=settings.llm_max_tokens,
        metrics=getattr(app.state, "metrics", None),
    )


async def stop_gateway(app: FastAPI) -> None:
    gw = getattr(app.state, "gateway", None)
    if gw is not None:
        await gw.close()
        app.state.gateway = None


router = APIRouter()
router.include_router(chat_router)
router.include_router(embeddings.router)
service = Service("chat", router, start_gateway, stop_gateway)
