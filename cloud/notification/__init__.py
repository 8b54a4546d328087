"""notification: per-user webhook channels (HMAC-signed, retried with backoff, dead-lettered),
an inbox, and WebSocket push to connected apps and hubs through Redis pub/sub, so a notification
sent to one cloud process reaches sockets held by any other."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

from fastapi import FastAPI

from cloud.common.fanout import make_fanout
from cloud.common.service import Service
from cloud.notification import push
from cloud.notification.push import FanOut
from cloud.notification.router import router
from cloud.notification.webhooks import WebhookWorker


@dataclass
class NotifyState:
    fanout: FanOut
    worker: WebhookWorker


async def start(app: FastAPI) -> None:
    worker = WebhookWorker(app.state.sessions, app.state.settings)
    fanout = make_fanout(app.state.settings.redis_url, catch_up=partial(push.missed, app.state.sessions))
    app.state.notify = NotifyState(fanout, worker)
    worker.start()


async def stop(app: FastAPI) -> None:
    await app.state.notify.worker.stop()
    await app.state.notify.fanout.close()


service = Service("notification", router, start, stop)
