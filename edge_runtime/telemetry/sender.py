"""Sends the outbox to the cloud's analytics service (POST /v1/analytics/events), oldest first, in
batches. A row leaves the outbox only after the cloud answered that it holds it; the cloud stores
each event once by its id, so a batch sent again (the answer was lost) is not counted twice.

While the cloud cannot be reached, or refuses the hub's credentials, the sender waits longer each
time (1 s doubling, up to `max_backoff_s`, with jitter) and the records wait in the outbox. A batch
the cloud refuses as invalid is sent again one record at a time, and only the records refused alone
are dropped (counted as rejected), so one bad record never blocks the rest."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from edge_runtime.telemetry.outbox import Outbox
from models.errors import CompanionError

log = logging.getLogger("companion.telemetry")
REFUSED = {400, 413, 422}  # the cloud will never take this content: sending it again changes nothing


class TelemetryError(CompanionError):
    code = "TELEMETRY_SEND_FAILED"


def cloud_events(record: dict[str, Any]) -> list[dict[str, Any]]:
    """One turn record as the analytics service's events: the turn (when it was routed), each error
    code, each device action. Their ids derive from the record's, so a resent record is one again."""
    rid, route, intent = str(record["event_id"]), record.get("route"), _clip(record.get("intent"), 64)
    base = {"hub_id": str(record["hub_id"])[:128], "at": record["at"]}
    out: list[dict[str, Any]] = []
    if route:
        turn = {"event_id": rid, "type": "turn", "route": str(route)[:16], "intent": intent}
        turn.update(latency_ms=record.get("latency_ms"), stages=record.get("stages") or None)
        if record.get("transcript"):
            turn["transcript"] = str(record["transcript"])[:2000]
        out.append({**base, **turn})
    for i, code in enumerate(record.get("errors") or []):
        error = {"event_id": f"{rid}:e{i}", "type": "error", "route": _clip(route, 16), "intent": intent}
        out.append({**base, **error, "error_code": str(code)[:64]})
    for i, action in enumerate(record.get("devices") or []):
        failed = action.get("outcome") != "confirmed"
        device = {"event_id": f"{rid}:d{i}", "type": "device", "device": _clip(action.get("device"), 128)}
        code = _clip(action.get("error") or "UNCONFIRMED", 64) if failed else None
        out.append({**base, **device, "intent": _clip(action.get("name"), 64), "error_code": code})
    return out


class Sender:
    def __init__(
        self,
        outbox: Outbox,
        base_url: str,
        token: Callable[[], Awaitable[str]],
        *,
        batch: int = 100,
        interval_s: float = 30.0,
        max_backoff_s: float = 300.0,
        timeout_s: float = 10.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.outbox = outbox
        self.token = token
        self.batch = batch
        self.interval_s = interval_s
        self.max_backoff_s = max_backoff_s
        self.http = httpx.AsyncClient(base_url=base_url.rstrip("/"), timeout=timeout_s, transport=transport)
        self.failures = 0  # sends failed in a row
        self._kick = asyncio.Event()
        outbox.on_add.append(self._added)

    async def close(self) -> None:
        if self._added in self.outbox.on_add:
            self.outbox.on_add.remove(self._added)
        await self.http.aclose()

    async def flush(self) -> int:
        """Send until the outbox is empty; the records the cloud acknowledged. Raises TelemetryError."""
        total = 0
        while records := self.outbox.batch(self.batch):
            total += await self._send(records)
        return total

    async def run(self, stopping: asyncio.Event) -> None:
        """Send every `interval_s` (sooner when a full batch is waiting) until `stopping` is set."""
        while not stopping.is_set():
            try:
                sent = await self.flush()
            except TelemetryError as err:
                self.failures += 1
                self.outbox.failed(f"{err.code}: {err.message}")
                wait = self.backoff()
                log.info("telemetry.waiting", extra={"code": err.code, "retry_s": round(wait, 1)})
            else:
                if sent:
                    log.info("telemetry.sent", extra={"records": sent})
                self.failures = 0
                wait = self.interval_s
            self._kick.clear()
            await _first(stopping, self._kick, wait)

    def backoff(self) -> float:
        full = min(self.max_backoff_s, 2.0 ** min(self.failures - 1, 20))
        return full * random.uniform(0.5, 1.0)

    def _added(self, rows: int) -> None:
        if rows >= self.batch and not self.failures:
            self._kick.set()

    async def _send(self, records: list[dict[str, Any]]) -> int:
        status = await self._post([e for r in records for e in cloud_events(r)])
        if status in REFUSED:
            if len(records) == 1:  # refused alone: it will never be taken
                log.warning("telemetry.rejected", extra={"event_id": records[0]["event_id"], "status": status})
                self.outbox.ack([records[0]["event_id"]], rejected=1)
                return 0
            return sum([await self._send([record]) for record in records])
        self.outbox.ack([r["event_id"] for r in records])
        return len(records)

    async def _post(self, events: list[dict[str, Any]]) -> int:
        """The answer's status when the cloud took the batch or refused its content; raises otherwise."""
        if not events:  # a record with nothing to report (no route, no error, no device)
            return 200
        try:
            token = await self.token()
        except CompanionError as err:
            raise TelemetryError(err.message, code=err.code, hint=err.hint) from err
        try:
            response = await self.http.post(
                "/v1/analytics/events", json={"events": events}, headers={"Authorization": f"Bearer {token}"}
            )
        except httpx.HTTPError as err:
            raise TelemetryError(f"cannot reach the cloud ({type(err).__name__})", code="CLOUD_UNREACHABLE") from err
        if response.status_code == 200 or response.status_code in REFUSED:
            return response.status_code
        raise TelemetryError(f"the cloud answered HTTP {response.status_code}", code=_code(response))


async def _first(stopping: asyncio.Event, kick: asyncio.Event, timeout_s: float) -> None:
    waits = [asyncio.ensure_future(stopping.wait()), asyncio.ensure_future(kick.wait())]
    try:
        await asyncio.wait(waits, timeout=timeout_s, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for wait in waits:
            wait.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await wait


def _clip(value: Any, n: int) -> str | None:
    return None if value is None else str(value)[:n]


def _code(response: httpx.Response) -> str:
    try:
        error = response.json().get("error")
    except (ValueError, AttributeError):
        error = None
    return str(error.get("code")) if isinstance(error, dict) and error.get("code") else f"HTTP_{response.status_code}"
