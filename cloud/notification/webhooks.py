"""Webhook delivery: due rows are claimed with a lease (FOR UPDATE SKIP LOCKED on PostgreSQL, so
several cloud processes share the work), posted signed, then marked delivered, retried with
exponential backoff, or dead-lettered after the last attempt.

Delivery is at least once: a process that dies mid-post leaves the lease to expire and another
retries. Receivers dedupe by the X-Companion-Delivery header.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from cloud.common.errors import ApiError, database_unavailable
from cloud.common.settings import CloudSettings
from cloud.notification.signing import signed_headers
from cloud.notification.targets import check_webhook_url
from cloud.tables import Notification, NotificationChannel, WebhookDelivery

log = logging.getLogger("cloud.notify")
BATCH = 32


@dataclass(frozen=True)
class Job:
    delivery_id: str
    attempts: int
    url: str
    secret: str
    body: bytes


def payload(notification: Notification, delivery_id: str) -> bytes:
    return json.dumps(
        {
            "id": notification.id,
            "delivery": delivery_id,
            "topic": notification.topic,
            "title": notification.title,
            "body": notification.body,
            "data": notification.data,
            "source": notification.source,
            "created_at": notification.created_at.isoformat(),
        },
        separators=(",", ":"),
    ).encode()


def backoff_s(settings: CloudSettings, attempts: int) -> float:
    """After the n-th failed attempt: base * 2^(n-1), capped, with 10 % jitter against herds."""
    delay = min(settings.notify_backoff_max_s, settings.notify_backoff_s * 2 ** max(0, attempts - 1))
    return delay * random.uniform(0.9, 1.1)


class WebhookWorker:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], settings: CloudSettings) -> None:
        self.sessions, self.settings = sessions, settings
        self.client = httpx.AsyncClient(timeout=settings.notify_webhook_timeout_s, follow_redirects=False)
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="webhooks")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        await self.client.aclose()

    def wake(self) -> None:
        """New deliveries are due now: don't wait for the next poll."""
        self._wake.set()

    async def _run(self) -> None:
        while True:
            try:
                jobs = await self.claim()
                if jobs:
                    await asyncio.gather(*(self.attempt(job) for job in jobs))
                    continue  # there may be more due
            except Exception as err:  # the database may be briefly gone; keep the worker alive
                if database_unavailable(err):  # a restart: expected, and said once a poll without a traceback
                    log.warning("notify.worker_waiting", extra={"code": "DATABASE_UNAVAILABLE"})
                else:
                    log.exception("notify.worker_error")
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.settings.notify_poll_s)

    async def claim(self) -> list[Job]:
        now = datetime.now(UTC)
        lease = timedelta(seconds=self.settings.notify_webhook_timeout_s + self.settings.notify_lease_margin_s)
        async with self.sessions() as s:
            due = (
                select(WebhookDelivery, NotificationChannel, Notification)
                .join(NotificationChannel, col(NotificationChannel.id) == WebhookDelivery.channel_id)
                .join(Notification, col(Notification.id) == WebhookDelivery.notification_id)
                .where(col(WebhookDelivery.status) == "pending", col(WebhookDelivery.next_at) <= now)
                .order_by(col(WebhookDelivery.next_at))
                .limit(BATCH)
                .with_for_update(skip_locked=True, of=WebhookDelivery)
            )
            rows = (await s.execute(due)).all()
            jobs = []
            for delivery, channel, notification in rows:
                delivery.next_at = now + lease
                s.add(delivery)
                jobs.append(
                    Job(delivery.id, delivery.attempts, channel.url, channel.secret, payload(notification, delivery.id))
                )
            await s.commit()
        return jobs

    async def attempt(self, job: Job) -> None:
        status, error = None, None
        try:
            await check_webhook_url(job.url, allow_private=self.settings.notify_private_webhooks)
            headers = signed_headers(job.secret, job.delivery_id, job.body)
            response = await self.client.post(job.url, content=job.body, headers=headers)
            status = response.status_code
            if not 200 <= status < 300:
                error = f"HTTP {status}"
        except ApiError as err:
            error = err.code
        except httpx.HTTPError as err:
            error = f"{type(err).__name__}: {err}"[:500]
        await self._record(job, status, error)

    async def _record(self, job: Job, status: int | None, error: str | None) -> None:
        async with self.sessions() as s:
            delivery = await s.get(WebhookDelivery, job.delivery_id)
            if delivery is None:  # the channel was deleted meanwhile
                return
            delivery.attempts = job.attempts + 1
            delivery.last_status, delivery.last_error = status, error
            now = datetime.now(UTC)
            if error is None:
                delivery.status, delivery.delivered_at = "delivered", now
            elif delivery.attempts >= self.settings.notify_webhook_attempts:
                delivery.status = "dead"
                log.warning(
                    "notify.dead_letter", extra={"delivery": delivery.id, "attempts": delivery.attempts, "error": error}
                )
            else:
                delivery.next_at = now + timedelta(seconds=backoff_s(self.settings, delivery.attempts))
            s.add(delivery)
            await s.commit()
