"""Every error leaves the API as JSON with a stable code, in OpenAI's shape so its clients read it:
{"error": {"code", "message", "type", "param"}} (and "hint" when there is one)."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from common.api_errors import ErrorPolicy, install_errors
from models.errors import CompanionError

log = logging.getLogger(__name__)


class ApiError(CompanionError):
    """A CompanionError that knows its HTTP status."""

    status = 400

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        status: int | None = None,
        hint: str | None = None,
        headers: dict[str, str] | None = None,
        param: str | None = None,
    ) -> None:
        super().__init__(message, code=code, hint=hint)
        if status is not None:
            self.status = status
        self.headers = headers or {}
        self.param = param


class Unauthorized(ApiError):
    status = 401
    code = "UNAUTHORIZED"


class Forbidden(ApiError):
    status = 403
    code = "FORBIDDEN"


class NotFound(ApiError):
    status = 404
    code = "NOT_FOUND"


class Conflict(ApiError):
    status = 409
    code = "CONFLICT"


class RateLimited(ApiError):
    status = 429
    code = "RATE_LIMITED"


class OAuthError(ApiError):
    """RFC 6749 §5.2 / RFC 8628 §3.5 errors keep their standard shape, so OAuth clients work."""

    status = 400

    def __init__(self, error: str, description: str, *, status: int = 400) -> None:
        super().__init__(description, code=error.upper(), status=status)
        self.error = error


class UpstreamError(ApiError):
    status = 502
    code = "UPSTREAM_FAILED"


class DatabaseUnavailable(ApiError):
    """The database cannot be reached: the request may succeed later, so say when to try again."""

    status = 503
    code = "DATABASE_UNAVAILABLE"

    def __init__(self, message: str = "the database is unavailable; try again shortly", **kw: Any) -> None:
        super().__init__(message, headers={"Retry-After": str(RETRY_AFTER_S)}, **kw)


class CacheUnavailable(ApiError):
    """Redis (rate limits, the authorization cache) cannot be reached."""

    status = 503
    code = "CACHE_UNAVAILABLE"

    def __init__(self, message: str = "the cache is unavailable; try again shortly", **kw: Any) -> None:
        super().__init__(message, headers={"Retry-After": str(RETRY_AFTER_S)}, **kw)


RETRY_AFTER_S = 5


ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    409: "conflict_error",
    413: "invalid_request_error",
    422: "invalid_request_error",
    429: "rate_limit_error",
}


def body(
    code: str, message: str, hint: str | None = None, *, status: int = 400, param: str | None = None
) -> dict[str, dict[str, str | None]]:
    """OpenAI's error object plus our stable code; `type` follows the status as OpenAI's does."""
    kind = ERROR_TYPES.get(status, "server_error" if status >= 500 else "invalid_request_error")
    out: dict[str, str | None] = {"code": code, "message": message, "type": kind, "param": param}
    if hint:
        out["hint"] = hint
    return {"error": out}


def _status(err: CompanionError) -> int:
    return err.status if isinstance(err, ApiError) else 400


def _headers(err: CompanionError) -> dict[str, str]:
    return err.headers if isinstance(err, ApiError) else {}


def _count_dependency(request: Request, err: CompanionError) -> None:
    metrics = getattr(request.app.state, "metrics", None)
    if metrics is not None and isinstance(err, DatabaseUnavailable | CacheUnavailable):
        metrics.dependency_error(err)


HTTP_CODES = {
    400: "INVALID_REQUEST",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    401: "UNAUTHORIZED",
    403: "FORBIDDEN",
    413: "PAYLOAD_TOO_LARGE",
}
ERRORS = ErrorPolicy(
    body=body,
    status=_status,
    http_codes=HTTP_CODES,
    http_fallback=lambda status: "HTTP_ERROR",
    validation_code="INVALID_REQUEST",
    headers=_headers,
    on_error=_count_dependency,
)


def install(app: FastAPI) -> None:
    """The shared installer (common.api_errors) in OpenAI's shape, plus what only the cloud has:
    OAuth's own error shape and the database's failures."""
    api_error = install_errors(app, ERRORS)

    @app.exception_handler(OAuthError)
    async def oauth_error(request: Request, exc: OAuthError) -> JSONResponse:
        return JSONResponse(
            {"error": exc.error, "error_description": exc.message, "code": exc.code},
            status_code=exc.status,
            headers={"Cache-Control": "no-store"},
        )

    @app.exception_handler(DBAPIError)
    async def database_error(request: Request, exc: DBAPIError) -> JSONResponse:
        """Answered here, not by Starlette's last-resort handler, which closes the connection."""
        if isinstance(exc, IntegrityError):
            return await _integrity(request, exc)
        if database_unavailable(exc):
            log.warning("db.unavailable", extra={"path": request.url.path, "error": type(exc.orig).__name__})
            return await api_error(request, DatabaseUnavailable())
        log.exception("request.failed", extra={"path": request.url.path, "code": "INTERNAL"})
        _count_db_error(request, "internal")
        return JSONResponse(body("INTERNAL", "internal error", status=500), status_code=500)

    @app.exception_handler(PoolTimeout)
    async def pool_exhausted(request: Request, exc: PoolTimeout) -> JSONResponse:
        log.warning("db.pool_exhausted", extra={"path": request.url.path})
        return await api_error(request, DatabaseUnavailable("the database is busy; try again shortly"))


# SQLSTATEs that say the server is going, gone or not yet back, whatever the driver's exception class:
# class 08 (connection exceptions), admin_shutdown, crash_shutdown, cannot_connect_now ("the database
# system is starting up" / "shutting down"), too_many_connections. A restart of PostgreSQL answers
# with these; asyncpg raises them as plain PostgresErrors, which SQLAlchemy passes on as DBAPIError.
UNAVAILABLE_STATES = frozenset({"57P01", "57P02", "57P03", "53300"})


def _unavailable(exc: DBAPIError) -> bool:
    state = str(getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None) or "")
    return state.startswith("08") or state in UNAVAILABLE_STATES


def database_unavailable(exc: BaseException) -> bool:
    """Whether `exc` says the database is away for now (so: 503, try again), not that a query is wrong."""
    if isinstance(exc, DatabaseUnavailable | PoolTimeout):
        return True
    if isinstance(exc, DBAPIError):
        return exc.connection_invalidated or isinstance(exc, OperationalError | InterfaceError) or _unavailable(exc)
    return False


async def _integrity(request: Request, exc: IntegrityError) -> JSONResponse:
    """A write refused by a constraint. When the caller's account was deleted under it (a foreign key
    to users), that is a 401 with a code; otherwise a conflict, e.g. two concurrent creations."""
    principal = getattr(request.state, "principal", None)
    authz = getattr(request.app.state, "authz", None)
    if principal is not None and authz is not None and not await authz.account_exists(principal.user_id):
        error: ApiError = Unauthorized("this account no longer exists", code="ACCOUNT_GONE")
    else:
        log.warning("db.integrity", extra={"path": request.url.path, "error": type(exc.orig).__name__})
        error = Conflict("the change conflicts with data stored meanwhile; reload and try again", code="CONFLICT_RETRY")
    headers = {"WWW-Authenticate": "Bearer"} if error.status == 401 else {}
    return JSONResponse(body(error.code, error.message, status=error.status), status_code=error.status, headers=headers)


def _count_db_error(request: Request, kind: str) -> None:
    metrics = getattr(request.app.state, "metrics", None)
    if metrics is not None:
        metrics.db_errors.labels(kind).inc()
