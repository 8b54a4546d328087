"""One error installer for both tiers' FastAPI apps, so a coded error leaves each the same way.

Each tier states only what differs (its JSON shape, a `CompanionError`'s status, its codes for
HTTP and validation errors); the handlers, the 401 challenge and the headers are written once here.
Kept apart from `common.asgi`, which needs no web framework: only the HTTP servers import this.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from common.errors import CompanionError


class ErrorBody(Protocol):
    def __call__(
        self, code: str, message: str, hint: str | None = None, *, status: int = 400, param: str | None = None
    ) -> dict[str, Any]: ...


Respond = Callable[[Request, CompanionError], Awaitable[JSONResponse]]


def _no_headers(err: CompanionError) -> Mapping[str, str]:
    return {}


@dataclass(frozen=True)
class ErrorPolicy:
    """What one tier's errors look like. `unexpected`, when set, answers any other exception with
    500 INTERNAL and that message (it may log); unset, they reach the server's own last resort."""

    body: ErrorBody
    status: Callable[[CompanionError], int]
    http_codes: Mapping[int, str]
    http_fallback: Callable[[int], str]
    validation_code: str
    headers: Callable[[CompanionError], Mapping[str, str]] = _no_headers
    on_error: Callable[[Request, CompanionError], None] | None = None
    unexpected: Callable[[Request, Exception], str] | None = None


def install_errors(app: FastAPI, policy: ErrorPolicy) -> Respond:
    """Registers the handlers; returns the one that answers a `CompanionError`, for a tier's own
    handlers (registered after) that turn another exception, a database's, into one."""

    async def companion_error(request: Request, err: CompanionError) -> JSONResponse:
        status = policy.status(err)
        if policy.on_error is not None:
            policy.on_error(request, err)
        headers = {"WWW-Authenticate": "Bearer"} if status == 401 else {}
        content = policy.body(err.code, err.message, err.hint, status=status, param=getattr(err, "param", None))
        return JSONResponse(content, status_code=status, headers={**headers, **policy.headers(err)} or None)

    async def http_error(request: Request, err: HTTPException) -> JSONResponse:
        code = policy.http_codes.get(err.status_code) or policy.http_fallback(err.status_code)
        content = policy.body(code, str(err.detail), status=err.status_code)
        return JSONResponse(content, status_code=err.status_code, headers=getattr(err, "headers", None))

    async def invalid(request: Request, err: RequestValidationError) -> JSONResponse:
        first = err.errors()[0] if err.errors() else {}
        loc = first.get("loc", ())
        where = ".".join(str(p) for p in loc)
        param = ".".join(str(p) for p in loc[1:]) or None
        message = f"{where}: {first.get('msg', 'invalid')}"
        return JSONResponse(policy.body(policy.validation_code, message, status=422, param=param), status_code=422)

    app.add_exception_handler(CompanionError, companion_error)  # type: ignore[arg-type]
    app.add_exception_handler(HTTPException, http_error)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, invalid)  # type: ignore[arg-type]
    if (unexpected := policy.unexpected) is not None:

        async def internal(request: Request, err: Exception) -> JSONResponse:
            return JSONResponse(policy.body("INTERNAL", unexpected(request, err), status=500), status_code=500)

        app.add_exception_handler(Exception, internal)
    return companion_error
