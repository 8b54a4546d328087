"""The hubs this CLI has provisioned: their LAN API address and our app token (0600), and a client
for their LAN API whose failures are clear messages with codes, never tracebacks."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from cli.common import Context
from common.tomlfile import read_toml, write_toml
from models.errors import CompanionError

DEFAULT_PORT = 8765


STATUS_TIMEOUT_S = 300.0  # /v1/status runs the hub's checks; deep ones hash every model


class HubApiError(CompanionError):
    code = "HUB_API_ERROR"


def base_url(host: str) -> str:
    """HOST, HOST:PORT or a URL, as the user typed it."""
    if host.startswith(("http://", "https://")):
        return host.rstrip("/")
    return f"http://{host}" if ":" in host.rsplit("]", 1)[-1] else f"http://{host}:{DEFAULT_PORT}"


def hubs_file(ctx: Context) -> Path:
    return ctx.settings.config_dir / "hubs.toml"


def saved_hubs(ctx: Context) -> dict[str, dict[str, Any]]:
    path = hubs_file(ctx)
    return dict(read_toml(path).get("hubs", {}))


def save_hub(ctx: Context, url: str, record: dict[str, Any]) -> None:
    hubs = {**saved_hubs(ctx), url: record}
    write_toml(hubs_file(ctx), {"hubs": {u: dict(sorted(values.items())) for u, values in sorted(hubs.items())}})


class LanClient:
    def __init__(self, url: str, token: str | None, *, timeout_s: float = 10.0) -> None:
        self.url = url
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        try:
            self.http = httpx.Client(base_url=url, headers=headers, timeout=timeout_s)
        except (httpx.InvalidURL, ValueError) as err:
            raise HubApiError(
                f"{url} is not a hub address ({err})",
                code="HUB_BAD_ADDRESS",
                hint="give HOST, HOST:PORT or http://HOST:PORT; IPv6 as [::1]:8765",
            ) from err

    def call(self, method: str, path: str, **kw: Any) -> Any:
        try:
            response = self.http.request(method, path, **kw)
        except httpx.InvalidURL as err:
            raise HubApiError(f"{self.url} is not a hub address ({err})", code="HUB_BAD_ADDRESS") from err
        except httpx.ReadTimeout as err:
            raise HubApiError(
                f"the hub at {self.url} took too long to answer {path}",
                code="HUB_SLOW",
                hint="it is reachable but busy; try again, or check its load",
            ) from err
        except httpx.HTTPError as err:
            hint = "is `companion hub up` running there, with COMPANION_API_HOST=0.0.0.0?"
            raise HubApiError(
                f"cannot reach the hub at {self.url} ({type(err).__name__})", code="HUB_UNREACHABLE", hint=hint
            ) from err
        if response.is_success:
            try:
                return response.json() if response.content else None
            except ValueError:
                raise HubApiError(
                    f"{self.url}{path} answered with something other than JSON",
                    code="HUB_BAD_REPLY",
                    hint="is that address a Companion hub?",
                ) from None
        try:
            error = response.json()["error"]
        except (ValueError, KeyError, TypeError):
            raise HubApiError(f"{self.url}{path}: HTTP {response.status_code}", code="HUB_API_ERROR") from None
        hint = error.get("hint")
        if error.get("code") in ("TOKEN_INVALID", "TOKEN_REVOKED", "TOKEN_MISSING"):
            hint = "provision it again with the code it shows: companion hub provision HOST --code CODE"
        raise HubApiError(error.get("message", "refused"), code=error.get("code", "HUB_API_ERROR"), hint=hint)

    def close(self) -> None:
        self.http.close()


@contextmanager
def lan_client(ctx: Context, host: str, *, token: str | None = None, timeout_s: float = 10.0) -> Iterator[LanClient]:
    """A client with the token saved for this hub (or the one given)."""
    url = base_url(host)
    token = token or saved_hubs(ctx).get(url, {}).get("token")
    if token is None:
        hint = f"companion hub provision {host} --code CODE (the code: `companion hub pair-code`)"
        raise HubApiError(f"this CLI has not provisioned {url}", code="HUB_NOT_PROVISIONED", hint=hint)
    client = LanClient(url, token, timeout_s=timeout_s)
    try:
        yield client
    finally:
        client.close()
