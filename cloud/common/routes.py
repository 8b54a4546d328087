"""Each service's routes, added to the app one by one rather than as included routers.

FastAPI (0.16x) keeps an included router as one nested route: a request is matched against every
route of each router before it, router by router, with bookkeeping per candidate, and matched
again inside the router that answers. For a cheap request that was about a tenth of its cost. A service
router that includes its parts plainly (no prefix, dependencies, tags or other options of its own)
means exactly its routes, in order, so those are what the app gets. Any other include is left to
FastAPI as it is. One difference: `app.dependency_overrides` does not reach a route added this way
(its provider is the service router's, none); nothing here uses overrides."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute
from starlette.datastructures import URLPath
from starlette.routing import BaseRoute, Host, Match, NoMatchFound
from starlette.types import Receive, Scope, Send

PLAIN: dict[str, Any] = {  # what an include with no options of its own carries (fastapi.routing._RouterIncludeContext)
    "prefix": "",
    "tags": [],
    "dependencies": [],
    "responses": {},
    "callbacks": [],
    "deprecated": None,
    "include_in_schema": True,
    "max_body_size": None,
}


def include(app: FastAPI, router: APIRouter) -> None:
    """Adds `router`'s routes to `app` as `app.include_router(router)` would, flat where that
    changes nothing."""
    # The router's own prefix, tags and dependencies are in its routes already; an include below it
    # carries them in its context, so it is not plain.
    if getattr(router, "_low_priority_routes", None) or not all(_plain(route) for route in _nested(router)):
        app.include_router(router)
        return
    app.router.routes.extend(flat_routes(router))


def flat_routes(router: APIRouter) -> list[Any]:
    routes: list[Any] = []
    for route in router.routes:
        inner = getattr(route, "original_router", None)
        routes.extend(flat_routes(inner) if isinstance(inner, APIRouter) else [route])
    return routes


def _nested(router: APIRouter) -> list[Any]:
    """Every include below `router`."""
    found = []
    for route in router.routes:
        inner = getattr(route, "original_router", None)
        if isinstance(inner, APIRouter):
            found += [route, *_nested(inner)]
    return found


def _plain(included: Any) -> bool:
    context = getattr(included, "include_context", None)
    if context is None:
        return False
    inner: APIRouter = included.original_router
    return (
        all(getattr(context, name, object()) == value for name, value in PLAIN.items())
        and not getattr(inner, "_low_priority_routes", None)  # frontend routes: matched last, app-wide
        and type(getattr(context, "default_response_class", None)).__name__ == "DefaultPlaceholder"
    )


class RouteIndex(BaseRoute):
    """The first of the app's routes: it remembers which route answers each (method, path) of a route
    without path parameters, so a request for one is routed with one match instead of one per route
    listed before it. The router takes the first route that matches in full; this finds that route
    the first time by the same scan, in the same order. Only HTTP requests for a path some such
    route has are looked up; everything else goes on to the routes after it, as before."""

    def __init__(self, routes: list[BaseRoute], kept: int = 1024) -> None:
        self.routes = routes  # the router's own list, this included
        self.kept = kept
        self.known: dict[tuple[str, str], APIRoute | None] = {}
        self._paths: frozenset[str] = frozenset()
        self._count = -1

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] != "http" or scope.get("root_path"):
            return Match.NONE, {}
        if len(self.routes) != self._count:  # routes were added: learn again
            self._reset()
        path = scope["path"]
        if path not in self._paths:
            return Match.NONE, {}
        key = (scope["method"], path)
        if key in self.known:
            route = self.known[key]
        else:
            route = self._first(scope)
            if len(self.known) < self.kept:
                self.known[key] = route
        if route is None:
            return Match.NONE, {}
        match, child = route.matches(scope)
        return (match, child) if match is Match.FULL else (Match.NONE, {})

    def _reset(self) -> None:
        self.known.clear()
        self._count = len(self.routes)
        if any(isinstance(route, Host) for route in self.routes):  # its match depends on a header
            self._paths = frozenset()
            return
        self._paths = frozenset(r.path for r in self.routes if isinstance(r, APIRoute) and not r.param_convertors)

    def _first(self, scope: Scope) -> APIRoute | None:
        """The route the router would take, if it is one without path parameters."""
        for route in self.routes:
            if route is self:
                continue
            match, _ = route.matches(scope)
            if match is Match.FULL:
                return route if isinstance(route, APIRoute) and not route.param_convertors else None
        return None

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        await scope["route"].handle(scope, receive, send)  # the route matched, set by its match

    def url_path_for(self, name: str, /, **path_params: Any) -> URLPath:
        raise NoMatchFound(name, path_params)


def index(app: FastAPI) -> None:
    """Puts a RouteIndex first among `app`'s routes."""
    app.router.routes.insert(0, RouteIndex(app.router.routes))
