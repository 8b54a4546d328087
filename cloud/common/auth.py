"""Who may call: the bearer-token dependency every protected route uses, with the rate limit."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.requests import HTTPConnection

from cloud.common.apikeys import KEY_PREFIX, authenticate_key
from cloud.common.errors import Forbidden, Unauthorized
from cloud.common.ratelimit import enforce, forget
from cloud.common.tokens import Principal
from common.asgi import connection_token

bearer = HTTPBearer(auto_error=False, description="An access token from /v1/auth/token, or an API key (ck_...)")


async def current_principal(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
) -> Principal:
    if credentials is None:
        raise Unauthorized(
            "this route needs a bearer token",
            code="TOKEN_MISSING",
            hint="log in at /v1/auth/token, then send Authorization: Bearer <token>",
        )
    state = request.app.state
    if credentials.credentials.startswith(KEY_PREFIX):
        principal = await authenticate_key(state, credentials.credentials)
    else:
        principal = state.access_tokens.read(credentials.credentials)
    limit, window_s = state.settings.rate_limit_per_minute, state.settings.rate_limit_window_s
    counted = state.limiter.hit(principal.key, limit, window_s)  # to Redis with the authorization lookup
    try:
        await state.authz.check(principal)
    except BaseException:
        forget(counted)  # it was counted: a revoked device's or a deleted account's budget is spent on nothing
        raise
    request.state.principal = principal  # for error handlers: a write refused because the account went
    await enforce(counted, "too many requests", f"at most {limit} per {window_s:g} s")
    return principal


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


def require(scope: str) -> Callable[[Principal], Awaitable[Principal]]:
    """A dependency: the caller must hold `scope` (users hold every scope)."""

    async def check(principal: CurrentPrincipal) -> Principal:
        if principal.limited and scope not in principal.scopes:
            raise Forbidden(f"this token lacks the '{scope}' scope", code="SCOPE_MISSING")
        return principal

    return check


async def user_only(principal: CurrentPrincipal) -> Principal:
    if principal.limited:
        raise Forbidden(
            "only the account holder may do this, not a device or an API key",
            code="USER_REQUIRED",
            hint="sign in with your password (companion cloud login)",
        )
    return principal


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
