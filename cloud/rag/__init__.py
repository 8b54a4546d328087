"""rag: per-user document and memory search (chromadb + MiniLM from the registry), with citations."""

from __future__ import annotations

from fastapi import FastAPI

from cloud.chat import start_gateway, stop_gateway
from cloud.common.service import Service
from cloud.rag.router import router


async def start(app: FastAPI) -> None:
    from cloud.common.embedding import shared_embedder
    from cloud.rag.index import RagIndex

    settings = app.state.settings
    embedder = await shared_embedder(app)  # the same model /v1/embeddings serves
    app.state.rag = RagIndex(embedder, path=settings.data_dir / "chroma", url=settings.rag_chroma_url)
    if settings.rag_answers:
        await start_gateway(app)


async def stop(app: FastAPI) -> None:
    await stop_gateway(app)


service = Service("rag", router, start, stop)
