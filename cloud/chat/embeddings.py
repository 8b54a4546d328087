"""OpenAI-compatible /v1/embeddings with the registry's MiniLM (384 dimensions, L2-normalised): the
model rag already embeds with, so a client's vectors and the cloud's own are comparable."""

from __future__ import annotations

import asyncio
import base64
from typing import Annotated, Any, Literal

import numpy as np
from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from cloud.common.auth import require
from cloud.common.embedding import EMBED_MODEL, shared_embedder
from cloud.common.errors import ApiError, NotFound
from cloud.common.tokens import Principal

router = APIRouter(prefix="/v1", tags=["chat"])
Embedder = Annotated[Principal, Depends(require("embeddings"))]
NAMES = {EMBED_MODEL, "all-MiniLM-L6-v2", "companion-embed"}
DIMENSIONS = 384
MAX_INPUTS = 256
MAX_CHARS = 32_000


class EmbeddingRequest(BaseModel):
    model: str = Field(EMBED_MODEL, max_length=128)
    input: str | list[str] | list[int] | list[list[int]]
    encoding_format: Literal["float", "base64"] = "float"
    dimensions: int | None = Field(None, ge=1)
    user: str | None = Field(None, max_length=256)

    def texts(self) -> list[str]:
        items = [self.input] if isinstance(self.input, str) else list(self.input)
        if not items or not all(isinstance(i, str) for i in items):
            raise ApiError(
                "input must be a string or a list of strings (token arrays are not accepted)",
                code="UNSUPPORTED_PARAMETER",
                status=400,
                param="input",
            )
        if len(items) > MAX_INPUTS or any(len(str(i)) > MAX_CHARS for i in items):
            raise ApiError(
                f"at most {MAX_INPUTS} inputs of {MAX_CHARS} characters each",
                code="INPUT_TOO_LARGE",
                status=400,
                param="input",
            )
        return [str(i) for i in items]


@router.post("/embeddings", summary="OpenAI-compatible embeddings (MiniLM, 384 dimensions)")
async def embeddings(body: EmbeddingRequest, request: Request, _: Embedder) -> dict[str, Any]:
    if body.model not in NAMES:
        raise NotFound(f"no embedding model called {body.model!r}", code="MODEL_NOT_FOUND", hint=f"use {EMBED_MODEL}")
    if body.dimensions is not None and body.dimensions != DIMENSIONS:
        raise ApiError(
            f"this model makes {DIMENSIONS}-dimensional vectors",
            code="UNSUPPORTED_PARAMETER",
            status=400,
            param="dimensions",
        )
    texts = body.texts()
    model = await shared_embedder(request.app)
    vectors, tokens = await asyncio.to_thread(_embed, model, texts)
    data = [
        {"object": "embedding", "index": i, "embedding": _encode(v, body.encoding_format)}
        for i, v in enumerate(vectors)
    ]
    return {
        "object": "list",
        "data": data,
        "model": body.model,
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    }


def _embed(model: Any, texts: list[str]) -> tuple[np.ndarray, int]:
    tokens = sum(sum(e.attention_mask) for e in model.tokenizer.encode_batch(texts))
    return model.embed(texts), int(tokens)


def _encode(vector: np.ndarray, how: str) -> list[float] | str:
    """base64 is little-endian float32, as OpenAI sends it (its Python client asks for it by default)."""
    if how == "base64":
        return base64.b64encode(vector.astype("<f4").tobytes()).decode()
    return [float(x) for x in vector]
