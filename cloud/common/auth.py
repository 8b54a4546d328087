"""Who may call: the bearer-token dependency every protected route uses, with the rate limit."""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPBearer
from starlette.requests import HTTPConnection

from cloud.common.apikeys import KEY_PREFIX, authenticate_key
from cloud.common.errors import Forbidden, Unauthorized
from cloud.common.ratelimit import enforce, forget
from cloud.common.tokens import Principal
from common.asgi import connection_token

Scope = MutableMapping[str, Any]

DESCRIPTION = "An access token from /v1/auth/token, or an API key (ck_...)"


class BearerAuth(HTTPBearer):
    """The one dependency a protected route solves: the bearer token (or API key), the
    authorization check (revoked devices, deleted accounts), the rate limit and, with `scope`, the
    scope; with `user_only`, only the account holder. One dependency, not a chain of three, because
    FastAPI's cost per solved dependency is a good share of a cheap request's. It is still the
    `HTTPBearer` security scheme in /openapi.json.

    A request is admitted (and counted against its limit) once, however many of these its route
    depends on: the principal is kept on the request, and the others check only their scope."""

    def __init__(self, scope: str | None = None, *, user_only: bool = False) -> None:
        super().__init__(auto_error=False, scheme_name="HTTPBearer", description=DESCRIPTION)
        self.scope, self.user_only = scope, user_only

    async def __call__(self, request: Request) -> Principal:  # type: ignore[override]
        principal: Principal | None = request.scope.get("state", {}).get("principal")  # admitted already
        if principal is None:
            principal = await admit(request)
        if self.user_only and principal.limited:
            raise Forbidden(
                "only the account holder may do this, not a device or an API key",
                code="USER_REQUIRED",
                hint="sign in with your password (companion cloud login)",
            )
        if self.scope is not None and principal.limited and self.scope not in principal.scopes:
            raise Forbidden(f"this token lacks the '{self.scope}' scope", code="SCOPE_MISSING")
        return principal


def bearer_token(scope: Scope) -> str | None:
    """The credentials of an `Authorization: Bearer ...` header, read from the ASGI scope."""
    for name, value in scope["headers"]:
        if name == b"authorization":
            kind, _, credentials = value.decode("latin-1").partition(" ")
            return (credentials.strip() or None) if kind.lower() == "bearer" else None
    return None


async def admit(request: Request) -> Principal:
    """Who calls, if they still may, counted against their limit: 401 or 429 otherwise."""
    token = bearer_token(request.scope)
    if token is None:
        raise Unauthorized(
            "this route needs a bearer token",
            code="TOKEN_MISSING",
            hint="log in at /v1/auth/token, then send Authorization: Bearer <token>",
        )
    state = request.app.state
    if token.startswith(KEY_PREFIX):
        principal = await authenticate_key(state, token)
    else:
        principal = state.access_tokens.read(token)
    limit, window_s = state.settings.rate_limit_per_minute, state.settings.rate_limit_window_s
    counted = state.limiter.hit(principal.key, limit, window_s)  # to Redis with the authorization lookup
    try:
        await state.authz.check(principal)
    except BaseException:
        forget(counted)  # it was counted: a revoked device's or a deleted account's budget is spent on nothing
        raise
    request.state.principal = principal  # for error handlers: a write refused because the account went
    await enforce(counted, "too many requests", lambda: f"at most {limit} per {window_s:g} s")
    return principal


current_principal = BearerAuth()
CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


def require(scope: str) -> BearerAuth:
    """A dependency: the caller must hold `scope` (users hold every scope)."""
    return BearerAuth(scope)


user_only = BearerAuth(user_only=True)
CurrentUser = Annotated[Principal, Depends(user_only)]


async def connection_principal(conn: HTTPConnection, scope: str) -> Principal:
    """For WebSockets: a bearer header, or `?access_token=` because browsers can't set headers there.
    Users hold every scope; a device needs `scope`. Revoked devices and deleted accounts are refused."""
    state = conn.app.state
    token = connection_token(conn.headers, conn.query_params)
    if not token:
        raise Unauthorized("this route needs a bearer token", code="TOKEN_MISSING")
    principal = state.access_tokens.read(token)
    await state.authz.check(principal)
    if principal.device_id and scope not in principal.scopes:
        raise Forbidden(f"this token lacks the '{scope}' scope", code="SCOPE_MISSING")
    return principal
