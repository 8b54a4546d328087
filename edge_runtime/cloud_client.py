"""The hub's HTTP client for the cloud: sign-in, linking by device grant, tokens that refresh."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
import jwt

from common.wire import DEVICE_GRANT
from edge_runtime.identity import HubFiles
from models.errors import CompanionError

_REFRESHING = threading.RLock()


class CloudError(CompanionError):
    code = "CLOUD_ERROR"


class CloudClient:
    def __init__(
        self, base_url: str, files: HubFiles, *, timeout_s: float = 10.0, transport: httpx.BaseTransport | None = None
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.files = files
        self.http = httpx.Client(base_url=self.base_url, timeout=timeout_s, transport=transport)

    def _call(self, method: str, path: str, **kw: Any) -> httpx.Response:
        try:
            return self.http.request(method, path, **kw)
        except httpx.HTTPError as err:
            what = f"cannot reach the cloud at {self.base_url} ({type(err).__name__})"
            raise CloudError(what, code="CLOUD_UNREACHABLE", hint="check COMPANION_CLOUD_URL and the network") from err

    @staticmethod
    def _fail(response: httpx.Response, what: str) -> CloudError:
        try:
            body = response.json()
        except ValueError:
            body = {}
        error = body.get("error")
        if isinstance(error, dict):
            return CloudError(
                f"{what}: {error.get('message')}", code=str(error.get("code", "CLOUD_ERROR")), hint=error.get("hint")
            )
        code = str(error or "CLOUD_ERROR").upper()
        return CloudError(f"{what}: {body.get('error_description') or response.text[:200]}", code=code)

    # --- the user

    def login(self, email: str, password: str) -> None:
        response = self._call(
            "POST", "/v1/auth/token", data={"grant_type": "password", "username": email, "password": password}
        )
        if response.status_code != 200:
            raise self._fail(response, "sign-in failed")
        self.files.save_credentials(
            self.files.user_credentials, {"url": self.base_url, "email": email, **_tokens(response.json())}
        )

    def user_token(self) -> str:
        return self._fresh(self.files.user_credentials, "you are not signed in", "run `companion cloud login`")

    def approve(self, user_code: str, *, allow: bool = True) -> dict[str, Any]:
        response = self._call(
            "POST",
            "/v1/auth/device/approve",
            json={"user_code": user_code, "approve": allow},
            headers=_bearer(self.user_token()),
        )
        if response.status_code != 200:
            raise self._fail(response, "approval failed")
        return dict(response.json())

    # --- the hub

    def start_link(self, hub_id: str, name: str) -> dict[str, Any]:
        response = self._call("POST", "/v1/auth/device/code", data={"client_id": hub_id, "client_name": name})
        if response.status_code != 200:
            raise self._fail(response, "could not start linking")
        return dict(response.json())

    def wait_for_link(
        self,
        grant: dict[str, Any],
        *,
        on_wait: Callable[[float], None] | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> dict[str, Any]:
        """Poll as RFC 8628 says (interval, slow_down) until approved, denied or expired."""
        interval = float(grant.get("interval", 5))
        deadline = time.monotonic() + float(grant["expires_in"])
        while True:
            response = self._call(
                "POST", "/v1/auth/token", data={"grant_type": DEVICE_GRANT, "device_code": grant["device_code"]}
            )
            if response.status_code == 200:
                tokens = _tokens(response.json())
                claims = jwt.decode(tokens["access_token"], options={"verify_signature": False})
                record = {"url": self.base_url, "device_id": claims.get("dev", ""), **tokens}
                self.files.save_credentials(self.files.hub_credentials, record)
                return record
            error = (
                response.json().get("error")
                if response.headers.get("content-type", "").startswith("application/json")
                else None
            )
            if error == "slow_down":
                interval += 5
            elif error == "expired_token" or time.monotonic() > deadline:
                raise CloudError(
                    "the link code expired before it was approved",
                    code="LINK_EXPIRED",
                    hint="run `companion hub link` again",
                )
            elif error == "access_denied":
                raise CloudError("the link was declined", code="LINK_DENIED")
            elif error != "authorization_pending":
                raise self._fail(response, "linking failed")
            if on_wait:
                on_wait(max(0.0, deadline - time.monotonic()))
            sleep(interval)

    def hub_token(self) -> str:
        return self._fresh(self.files.hub_credentials, "this hub is not linked", "run `companion hub link`")

    def unlink(self) -> None:
        response = self._call("POST", "/v1/auth/devices/self/revoke", headers=_bearer(self.hub_token()))
        if response.status_code not in (200, 401):
            raise self._fail(response, "unlinking failed")
        self.files.hub_credentials.unlink(missing_ok=True)

    def me(self, token: str) -> dict[str, Any]:
        response = self._call("GET", "/v1/auth/me", headers=_bearer(token))
        if response.status_code != 200:
            raise self._fail(response, "the cloud refused our credentials")
        return dict(response.json())

    def health(self) -> tuple[dict[str, Any], datetime | None]:
        response = self._call("GET", "/health")
        try:
            body = response.json() if response.is_success else None
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise CloudError(
                f"{self.base_url}/health answered HTTP {response.status_code}, not the cloud's health",
                code="CLOUD_UNHEALTHY",
                hint="check COMPANION_CLOUD_URL and that the cloud is up",
            )
        date = response.headers.get("date")
        return body, parsedate_to_datetime(date) if date else None

    def _fresh(self, path: Any, missing: str, hint: str) -> str:
        """A valid access token, refreshing (and rotating) when it is about to expire. One refresh at a
        time in this process: the hub's clients (sync, escalation, telemetry) share one credentials
        file, and a refresh token spent twice makes the cloud revoke the whole family."""
        with _REFRESHING:
            return self._fresh_locked(path, missing, hint)

    def _fresh_locked(self, path: Any, missing: str, hint: str) -> str:
        creds = self.files.credentials(path)  # read under the lock: another client may have just refreshed
        if not creds:
            raise CloudError(missing, code="CLOUD_NOT_SIGNED_IN", hint=hint)
        issuer = str(creds.get("url") or self.base_url).rstrip("/")
        if issuer != self.base_url.rstrip("/"):  # a token goes only to the cloud that issued it
            raise CloudError(
                f"these credentials are for {issuer}, not {self.base_url}",
                code="CLOUD_OTHER_CLOUD",
                hint=f"sign in to {self.base_url} first, or use --cloud {issuer}",
            )
        if float(creds.get("expires_at", 0)) - time.time() > 30:
            return str(creds["access_token"])
        response = self._call(
            "POST", "/v1/auth/token", data={"grant_type": "refresh_token", "refresh_token": creds["refresh_token"]}
        )
        if response.status_code != 200:
            raise CloudError(
                "the cloud no longer accepts these credentials (revoked or expired)",
                code="CLOUD_CREDENTIALS_REJECTED",
                hint=hint,
            )
        creds.update(_tokens(response.json()))
        self.files.save_credentials(path, creds)
        return str(creds["access_token"])


def _tokens(body: dict[str, Any]) -> dict[str, Any]:
    return {
        "access_token": body["access_token"],
        "refresh_token": body["refresh_token"],
        "expires_at": time.time() + float(body.get("expires_in", 0)),
        "scope": body.get("scope", ""),
    }


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
