"""cloud/common/routes.py: routes added flat and the route index answer every request exactly as
FastAPI's own include and scan do (same route, same 404/405, same OpenAPI), through httpx's ASGI
transport. A unit test of one module: the cloud's own tests cover it through the real services."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from fastapi import APIRouter, Depends, FastAPI
from fastapi.routing import APIRoute

from cloud.common.routes import RouteIndex, include, index


def _service() -> APIRouter:
    part = APIRouter()

    @part.get("/v1/things")
    async def things() -> dict[str, str]:
        return {"route": "list"}

    @part.post("/v1/things")
    async def add() -> dict[str, str]:
        return {"route": "add"}

    @part.get("/v1/things/{thing}")
    async def one(thing: str) -> dict[str, str]:
        return {"route": f"one:{thing}"}

    @part.get("/v1/things/special")  # after the parameter route: FastAPI's scan never reaches it
    async def special() -> dict[str, str]:
        return {"route": "special"}

    service = APIRouter()
    service.include_router(part)
    return service


def _guarded() -> APIRouter:
    guarded = APIRouter()

    @guarded.get("/guarded")
    async def guard() -> dict[str, str]:
        return {"route": "guarded"}

    service = APIRouter()
    service.include_router(guarded, prefix="/v1", dependencies=[Depends(lambda: None)])  # options: FastAPI's way
    return service


def _apps() -> tuple[FastAPI, FastAPI]:
    plain, ours = FastAPI(), FastAPI()
    for make in (_service, _guarded):
        plain.include_router(make())
        include(ours, make())
    index(ours)
    return plain, ours


async def _answers(app: FastAPI) -> list[tuple[Any, ...]]:
    calls = [
        ("GET", "/v1/things"),
        ("POST", "/v1/things"),
        ("DELETE", "/v1/things"),  # 405
        ("GET", "/v1/things/42"),
        ("GET", "/v1/things/special"),
        ("GET", "/v1/guarded"),
        ("GET", "/v1/nothing"),  # 404
        ("GET", "/v1/things"),  # again: from the index's memory
    ]
    out = []
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as http:
        for method, path in calls:
            answer = await http.request(method, path)
            out.append((method, path, answer.status_code, answer.text))
    return out


def test_flat_routes_and_the_index_answer_as_fastapi_does() -> None:
    plain, ours = _apps()
    expected, got = asyncio.run(_answers(plain)), asyncio.run(_answers(ours))
    assert got == expected
    assert [s for _, _, s, _ in got] == [200, 200, 405, 200, 200, 200, 404, 200]
    assert '"one:special"' in got[4][3]  # the first route that matches wins, as before
    assert ours.openapi()["paths"] == plain.openapi()["paths"]
    first = ours.router.routes[0]
    assert isinstance(first, RouteIndex) and first.known[("GET", "/v1/things")] is not None
    flat = [getattr(r, "path", None) for r in ours.router.routes if isinstance(r, APIRoute)]
    assert flat == ["/v1/things", "/v1/things", "/v1/things/{thing}", "/v1/things/special"]  # added flat
    assert [hasattr(r, "original_router") for r in ours.router.routes][-1]  # the other, included as FastAPI does


def test_the_index_learns_again_when_routes_are_added() -> None:
    _, ours = _apps()
    asyncio.run(_answers(ours))

    @ours.get("/v1/late")
    async def late() -> dict[str, str]:
        return {"route": "late"}

    async def ask() -> int:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=ours), base_url="http://test") as http:
            return (await http.get("/v1/late")).status_code

    assert asyncio.run(ask()) == 200
