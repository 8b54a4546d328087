"""The one MiniLM embedder a cloud process holds, shared by rag and /v1/embeddings: loaded once,
on first use (the app factory makes `app.state.embedder_lock`), from the registry, never a download."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import FastAPI

EMBED_MODEL = "embed-minilm-int8"


async def shared_embedder(app: FastAPI) -> Any:
    """models.embed.MiniLMEmbedder; onnxruntime sessions may run from several threads at once."""
    async with app.state.embedder_lock:
        if getattr(app.state, "embedder", None) is None:
            from models.embed import MiniLMEmbedder
            from models.registry import Registry

            threads = app.state.settings.llm_threads
            app.state.embedder = await asyncio.to_thread(MiniLMEmbedder, Registry(), EMBED_MODEL, threads=threads)
    return app.state.embedder
