"""A service is a router plus what it needs started; the app factory mounts any set of them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from fastapi import APIRouter, FastAPI


@dataclass(frozen=True)
class Service:
    name: str
    router: APIRouter
    startup: Callable[[FastAPI], Awaitable[None]] | None = None
    shutdown: Callable[[FastAPI], Awaitable[None]] | None = None
