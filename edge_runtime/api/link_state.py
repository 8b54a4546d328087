"""Where linking to a cloud account stands (POST /v1/link): a small state machine, typed, instead
of a dict whose keys each route had to know."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any, Literal

LinkPhase = Literal["unlinked", "pending", "linked", "expired", "denied", "error"]
GRANT_SHOWN = ("user_code", "verification_uri", "expires_in", "interval")  # what the app may show
_FAILED: dict[str, LinkPhase] = {"LINK_EXPIRED": "expired", "LINK_DENIED": "denied"}


@dataclass(frozen=True)
class LinkStatus:
    """What GET /v1/link answers; unset fields are left out."""

    state: LinkPhase
    cloud_url: str | None = None
    device_id: str | None = None
    user_code: str | None = None
    verification_uri: str | None = None
    expires_in: int | None = None
    interval: int | None = None
    error: str | None = None
    message: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}


@dataclass
class LinkProgress:
    """This process's link attempt: `status` None until one starts, `task` waiting for approval."""

    status: LinkStatus | None = None
    task: asyncio.Task[None] | None = None

    @property
    def settled(self) -> bool:
        """Nothing started here, or it ended linked: the saved credentials tell the truth."""
        return self.status is None or self.status.state == "linked"

    def start(self, cloud_url: str, grant: Mapping[str, Any]) -> LinkStatus:
        """A new attempt replaces one still pending."""
        self.cancel()
        shown = {k: grant[k] for k in GRANT_SHOWN if k in grant}
        self.status = LinkStatus("pending", cloud_url, **shown)
        return self.status

    def failed(self, cloud_url: str, code: str, message: str) -> None:
        self.status = LinkStatus(_FAILED.get(code, "error"), cloud_url, error=code, message=message)

    def linked(self, cloud_url: str, device_id: str | None) -> None:
        self.status = LinkStatus("linked", cloud_url, device_id=device_id)

    def unlinked(self) -> None:
        self.status = LinkStatus("unlinked")

    def cancel(self) -> None:
        """Stops waiting (its thread ends at its next poll)."""
        if self.task is not None and not self.task.done():
            self.task.cancel()
