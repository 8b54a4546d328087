"""rag: a user's documents and synced memory, searchable, with answers grounded in them."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, Field

from cloud.common.auth import require
from cloud.common.errors import ApiError
from cloud.common.tokens import Principal
from cloud.rag.chunking import chunk, extract
from cloud.rag.index import RagIndex

router = APIRouter(prefix="/v1/rag", tags=["rag"])
Reader = Annotated[Principal, Depends(require("rag"))]


class Citation(BaseModel):
    n: int
    text: str
    doc_id: str
    title: str
    source: str
    page: int | None = None
    heading: str | None = None
    score: float


class QueryRequest(BaseModel):
    question: str = Field(min_length=1, max_length=2000)
    k: int = Field(4, ge=1, le=20)
    answer: bool = False


class QueryReply(BaseModel):
    results: list[Citation]
    answer: str | None = None


def _index(request: Request) -> RagIndex:
    return request.app.state.rag


async def refresh_memory(request: Request, user_id: str) -> None:
    """Index the user's synced memory as it is now (cheap when nothing changed)."""
    backend = getattr(request.app.state, "sync", None)
    if backend is None:
        return
    from sync.shape import memory_items

    memory = memory_items(await backend.log.load(user_id, "main"))  # items of another shape are skipped
    await _index(request).index_memory(user_id, memory)


@router.post("/documents", status_code=201, summary="Add a document: text/plain, text/markdown or application/pdf body")
async def add_document(
    request: Request, principal: Reader, title: Annotated[str, Query(min_length=1, max_length=200)] = "untitled"
) -> dict[str, Any]:
    content_type = request.headers.get("content-type", "")
    data = await request.body()
    if not data:
        raise ApiError("an empty document", code="RAG_EMPTY", status=422)
    chunks = chunk(extract(data, content_type), markdown="markdown" in content_type)
    if not chunks:
        raise ApiError(
            "no text found in the document", code="RAG_NO_TEXT", status=422, hint="a scanned PDF needs OCR first"
        )
    doc_id = uuid.uuid4().hex
    count = await _index(request).add(principal.user_id, doc_id, title, chunks, source="document")
    return {"id": doc_id, "title": title, "chunks": count}


@router.get("/documents", summary="The user's documents")
async def list_documents(request: Request, principal: Reader) -> list[dict[str, Any]]:
    docs = await _index(request).documents(principal.user_id)
    return [d for d in docs if d["source"] == "document"]


@router.delete("/documents/{doc_id}", status_code=204, summary="Remove a document and its chunks")
async def delete_document(doc_id: str, request: Request, principal: Reader) -> Response:
    if not await _index(request).delete(principal.user_id, doc_id):
        raise ApiError("no such document", code="RAG_UNKNOWN_DOCUMENT", status=404)
    return Response(status_code=204)


@router.post("/query", response_model=QueryReply, summary="Search documents and memory; optionally answer from them")
async def query(body: QueryRequest, request: Request, principal: Reader) -> QueryReply:
    await refresh_memory(request, principal.user_id)
    found = await _index(request).query(principal.user_id, body.question, body.k)
    results = [Citation(n=i + 1, **hit) for i, hit in enumerate(found)]
    answer = await grounded_answer(request, body.question, results) if body.answer else None
    return QueryReply(results=results, answer=answer)


async def grounded_answer(request: Request, question: str, results: list[Citation]) -> str:
    from cloud.chat.schemas import ChatCompletionRequest, Message

    gateway = getattr(request.app.state, "gateway", None)
    if gateway is None:
        raise ApiError(
            "no LLM gateway in this process",
            code="RAG_NO_GATEWAY",
            status=503,
            hint="run the rag service together with chat or escalation",
        )
    notes = "\n".join(f"[{r.n}] {r.text}" for r in results) or "(no notes)"
    system = (
        "Answer the question using only these notes, and cite them like [1]. If the notes do not "
        f"answer it, say you do not know.\n\nNotes:\n{notes}"
    )
    messages = [Message(role="system", content=system), Message(role="user", content=question)]
    chat = ChatCompletionRequest(messages=messages, max_tokens=150, temperature=0.2)
    text, _, _ = await gateway.complete(chat)
    return str(text).strip()


def notes_for(results: list[dict[str, Any]], *, min_score: float = 0.35) -> str:
    """For the escalation prompt: the user's own notes that bear on the question."""
    kept = [r for r in results if r["score"] >= min_score]
    return " ".join(f"[{i + 1}] {r['text']}" for i, r in enumerate(kept))
