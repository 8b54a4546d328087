"""The notification API: a user's webhook channels, sending, the inbox, and the dead-letter list."""

from __future__ import annotations

import secrets
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request, Response, WebSocket
from sqlmodel import col, delete, select

from cloud.common.auth import CurrentUser, require
from cloud.common.db import SessionDep
from cloud.common.errors import ApiError, NotFound
from cloud.common.tokens import Principal
from cloud.notification import push
from cloud.notification.schemas import (
    ChannelCreate,
    ChannelPublic,
    ChannelUpdate,
    ChannelWithSecret,
    DeliveryPublic,
    NotificationCreate,
    NotificationPublic,
    Sent,
)
from cloud.notification.targets import check_webhook_url
from cloud.tables import Notification, NotificationChannel, WebhookDelivery

router = APIRouter(prefix="/v1/notify", tags=["notification"])
Notifier = Annotated[Principal, Depends(require("notify"))]
MAX_CHANNELS = 20


def _public(channel: NotificationChannel, cls: type[ChannelPublic] = ChannelPublic) -> ChannelPublic:
    data = channel.model_dump()
    data["topics"] = channel.topics.split()
    return cls.model_validate(data)


async def _channel(session: SessionDep, user_id: str, channel_id: str) -> NotificationChannel:
    channel = await session.get(NotificationChannel, channel_id)
    if channel is None or channel.user_id != user_id:  # another user's channel is simply not there
        raise NotFound("no such channel", code="NOTIFY_UNKNOWN_CHANNEL")
    return channel


@router.post(
    "/channels",
    status_code=201,
    response_model=ChannelWithSecret,
    summary="Add a webhook; its signing secret is shown only in this answer",
)
async def create_channel(
    body: ChannelCreate, session: SessionDep, user: CurrentUser, request: Request
) -> ChannelPublic:
    await check_webhook_url(body.url, allow_private=request.app.state.settings.notify_private_webhooks)
    owned = await session.exec(select(NotificationChannel.id).where(col(NotificationChannel.user_id) == user.user_id))
    if len(owned.all()) >= MAX_CHANNELS:
        raise ApiError(f"at most {MAX_CHANNELS} channels", code="NOTIFY_TOO_MANY_CHANNELS", status=409)
    channel = NotificationChannel(
        user_id=user.user_id,
        kind=body.kind,
        name=body.name,
        url=body.url,
        secret=secrets.token_urlsafe(32),
        topics=" ".join(body.topics),
    )
    session.add(channel)
    await session.commit()
    return _public(channel, ChannelWithSecret)


@router.get("/channels", response_model=list[ChannelPublic], summary="The user's channels")
async def list_channels(session: SessionDep, user: CurrentUser) -> list[ChannelPublic]:
    rows = await session.exec(
        select(NotificationChannel)
        .where(col(NotificationChannel.user_id) == user.user_id)
        .order_by(col(NotificationChannel.created_at))
    )
    return [_public(c) for c in rows]


@router.patch("/channels/{channel_id}", response_model=ChannelPublic, summary="Rename, refilter, pause")
async def update_channel(channel_id: str, body: ChannelUpdate, session: SessionDep, user: CurrentUser) -> ChannelPublic:
    channel = await _channel(session, user.user_id, channel_id)
    changes = body.model_dump(exclude_unset=True)
    if "topics" in changes:
        changes["topics"] = " ".join(changes["topics"] or [])
    for key, value in changes.items():
        if value is not None:
            setattr(channel, key, value)
    session.add(channel)
    await session.commit()
    return _public(channel)


@router.post("/channels/{channel_id}/rotate", response_model=ChannelWithSecret, summary="A new signing secret")
async def rotate_secret(channel_id: str, session: SessionDep, user: CurrentUser) -> ChannelPublic:
    channel = await _channel(session, user.user_id, channel_id)
    channel.secret = secrets.token_urlsafe(32)
    session.add(channel)
    await session.commit()
    return _public(channel, ChannelWithSecret)


@router.delete("/channels/{channel_id}", status_code=204, summary="Remove a channel and its queued deliveries")
async def delete_channel(channel_id: str, session: SessionDep, user: CurrentUser) -> Response:
    channel = await _channel(session, user.user_id, channel_id)
    await session.exec(delete(WebhookDelivery).where(col(WebhookDelivery.channel_id) == channel.id))
    await session.delete(channel)
    await session.commit()
    return Response(status_code=204)


@router.post(
    "",
    status_code=202,
    response_model=Sent,
    summary="Notify the user: push to connected apps and hubs, queue signed webhooks",
)
async def send(body: NotificationCreate, session: SessionDep, principal: Notifier, request: Request) -> Sent:
    notification = Notification(user_id=principal.user_id, source=principal.device_id, **body.model_dump())
    session.add(notification)
    await session.flush()
    channels = await session.exec(
        select(NotificationChannel).where(
            col(NotificationChannel.user_id) == principal.user_id, col(NotificationChannel.enabled).is_(True)
        )
    )
    queued = 0
    for channel in channels:
        if not channel.topics or body.topic in channel.topics.split():
            session.add(
                WebhookDelivery(notification_id=notification.id, channel_id=channel.id, user_id=principal.user_id)
            )
            queued += 1
    await session.commit()  # stored: from here on it is delivered, whatever the fan-out does
    state = request.app.state.notify
    await push.publish(state.fanout, principal.user_id, push.message(notification))
    if queued:
        state.worker.wake()
    return Sent(id=notification.id, webhooks=queued)


@router.get("/notifications", response_model=list[NotificationPublic], summary="The inbox, newest first")
async def inbox(
    session: SessionDep, principal: Notifier, limit: Annotated[int, Query(ge=1, le=200)] = 50
) -> list[NotificationPublic]:
    rows = await session.exec(
        select(Notification)
        .where(col(Notification.user_id) == principal.user_id)
        .order_by(col(Notification.created_at).desc())
        .limit(limit)
    )
    return [NotificationPublic.model_validate(n.model_dump()) for n in rows]


@router.get(
    "/deliveries",
    response_model=list[DeliveryPublic],
    summary="Webhook deliveries; status=dead is the dead-letter list",
)
async def deliveries(
    session: SessionDep,
    user: CurrentUser,
    status: Literal["pending", "delivered", "dead"] | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[DeliveryPublic]:
    query = select(WebhookDelivery).where(col(WebhookDelivery.user_id) == user.user_id)
    if status:
        query = query.where(col(WebhookDelivery.status) == status)
    rows = await session.exec(query.order_by(col(WebhookDelivery.created_at).desc()).limit(limit))
    return [DeliveryPublic.model_validate(d.model_dump()) for d in rows]


@router.post(
    "/deliveries/{delivery_id}/retry",
    response_model=DeliveryPublic,
    summary="Send a dead-lettered delivery again, with a fresh set of attempts",
)
async def retry(delivery_id: str, session: SessionDep, user: CurrentUser, request: Request) -> DeliveryPublic:
    delivery = await session.get(WebhookDelivery, delivery_id)
    if delivery is None or delivery.user_id != user.user_id:
        raise NotFound("no such delivery", code="NOTIFY_UNKNOWN_DELIVERY")
    if delivery.status != "dead":
        raise ApiError(
            f"only dead deliveries are retried; this one is {delivery.status}", code="NOTIFY_NOT_DEAD", status=409
        )
    from cloud.tables import now

    delivery.status, delivery.attempts, delivery.next_at = "pending", 0, now()
    session.add(delivery)
    await session.commit()
    request.app.state.notify.worker.wake()
    return DeliveryPublic.model_validate(delivery.model_dump())


@router.websocket("/ws")
async def socket(ws: WebSocket) -> None:
    """Push for apps and hubs: bearer header or ?access_token=; needs the `notify` scope."""
    await push.serve_socket(ws, ws.app.state.notify.fanout)
