"""Serving the cloud: one process, or several uvicorn workers that each build the app.

Shared by `companion cloud serve` and `python -m cloud`, so neither reaches into the other.
"""

from __future__ import annotations

import json
import os
import sys
from typing import TYPE_CHECKING

from cloud.common.settings import CloudSettings
from models.errors import CompanionError

if TYPE_CHECKING:
    from fastapi import FastAPI

FACTORY = "cloud.serve:worker_app"


def serve(settings: CloudSettings, *, host: str | None = None, port: int | None = None, workers: int = 1) -> None:
    """Run the services `settings.services` names (all when empty) until interrupted."""
    import uvicorn

    from cloud.common.app import all_services, create_app

    unknown = set(settings.services) - set(all_services())
    if unknown:
        raise CompanionError(
            f"unknown service {', '.join(sorted(unknown))}",
            code="CLOUD_UNKNOWN_SERVICE",
            hint=f"choose from {', '.join(all_services())}",
        )
    if workers < 1:
        raise CompanionError(f"--workers must be at least 1, not {workers}", code="CLOUD_BAD_WORKERS")
    if workers > 1 and not (settings.redis_url and settings.database_url):
        raise CompanionError(
            "several workers need shared state",
            code="CLOUD_NEEDS_SHARED_STATE",
            hint="set COMPANION_CLOUD_REDIS_URL and COMPANION_CLOUD_DATABASE_URL",
        )
    host, port = host or settings.host, port or settings.port
    scheme = "https" if settings.tls_cert_file else "http"
    services = ", ".join(settings.services or all_services())
    shown = f"[{host}]" if ":" in host else host
    print(
        f"Companion cloud listening on {scheme}://{shown}:{port} ({workers} worker{'s' * (workers > 1)}; "
        f"services: {services})",
        file=sys.stderr,
        flush=True,
    )
    common = {
        "host": host,
        "port": port,
        "log_config": None,
        "access_log": False,
        "ssl_certfile": settings.tls_cert_file,
        "ssl_keyfile": settings.tls_key_file,
    }
    if workers == 1:
        uvicorn.run(create_app(settings, settings.services or None), **common)  # type: ignore[arg-type]
        return
    # uvicorn starts workers from an import string; each reads the same environment once, so the
    # command line's choices travel there.
    os.environ["COMPANION_CLOUD_SERVICES"] = json.dumps(settings.services)
    uvicorn.run(FACTORY, factory=True, workers=workers, **common)  # type: ignore[arg-type]


def worker_app() -> FastAPI:
    """A worker process's entry point: its settings, read once, and its app."""
    from cloud.common.app import create_app

    settings = CloudSettings()
    return create_app(settings, settings.services or None)


def require_cloud_extra() -> None:
    """The cloud's libraries come with `companion[cloud]`; a hub's install says so with a code."""
    import importlib.util

    missing = [
        m
        for m in ("sqlmodel", "redis", "jwt", "argon2", "prometheus_client", "chromadb")
        if importlib.util.find_spec(m) is None
    ]
    if missing:
        raise CompanionError(
            f"the cloud services need the cloud extra (missing: {', '.join(missing)})",
            code="CLOUD_EXTRA_MISSING",
            hint="pip install 'companion[cloud]' (from a checkout: pip install -e '.[cloud]')",
        )
