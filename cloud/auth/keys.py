"""/v1/auth/keys: a user's API keys for OpenAI-style clients. Only the account holder (a password
sign-in, not a device and not another key) may create, list or revoke them."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, status
from sqlmodel import Field, SQLModel, col, select

from cloud.auth.logic import parse_scopes
from cloud.common.apikeys import KEY_PREFIX, new_key
from cloud.common.auth import CurrentUser
from cloud.common.db import SessionDep
from cloud.common.errors import Conflict, NotFound
from cloud.common.tokens import digest
from cloud.tables import ApiKey, now

router = APIRouter(prefix="/v1/auth/keys", tags=["auth"])
DEFAULT_KEY_SCOPES = "chat embeddings"
MAX_KEYS = 100


class ApiKeyCreate(SQLModel):
    name: str = Field(min_length=1, max_length=100)
    scopes: str = Field(default=DEFAULT_KEY_SCOPES, max_length=500)


class ApiKeyPublic(SQLModel):
    id: str
    name: str
    prefix: str
    scopes: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class ApiKeyCreated(ApiKeyPublic):
    key: str  # shown this once


@router.post("", status_code=status.HTTP_201_CREATED, summary="A new API key; the key is shown only in this answer")
async def create_key(body: ApiKeyCreate, session: SessionDep, user: CurrentUser) -> ApiKeyCreated:
    scopes = parse_scopes(body.scopes, default=DEFAULT_KEY_SCOPES)
    live = (
        await session.exec(select(ApiKey.id).where(ApiKey.user_id == user.user_id, col(ApiKey.revoked_at).is_(None)))
    ).all()
    if len(live) >= MAX_KEYS:
        raise Conflict(
            f"at most {MAX_KEYS} live keys per account", code="API_KEY_LIMIT", hint="revoke one you no longer use"
        )
    secret = new_key()
    row = ApiKey(
        user_id=user.user_id,
        name=body.name,
        prefix=secret[: len(KEY_PREFIX) + 6],
        key_hash=digest(secret),
        scopes=" ".join(sorted(scopes)),
    )
    session.add(row)
    await session.commit()
    await session.refresh(row)
    return ApiKeyCreated(**ApiKeyPublic.model_validate(row, from_attributes=True).model_dump(), key=secret)


@router.get("", summary="The account's API keys (never the keys themselves)")
async def list_keys(session: SessionDep, user: CurrentUser) -> list[ApiKeyPublic]:
    rows = (
        await session.exec(select(ApiKey).where(ApiKey.user_id == user.user_id).order_by(col(ApiKey.created_at)))
    ).all()
    return [ApiKeyPublic.model_validate(r, from_attributes=True) for r in rows]


@router.delete("/{key_id}", summary="Revoke a key: it stops working at once")
async def revoke_key(key_id: str, session: SessionDep, user: CurrentUser) -> ApiKeyPublic:
    row = await session.get(ApiKey, key_id)
    if row is None or row.user_id != user.user_id:
        raise NotFound("no such API key", code="API_KEY_NOT_FOUND")  # another user's looks the same as none
    row.revoked_at = row.revoked_at or now()
    session.add(row)
    await session.commit()
    await session.refresh(row)
    return ApiKeyPublic.model_validate(row, from_attributes=True)
