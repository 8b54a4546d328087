"""profile: the user's profile and preferences, and their hubs and apps."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from sqlmodel import Field, SQLModel, select

from cloud.common.auth import require
from cloud.common.db import SessionDep
from cloud.common.service import Service
from cloud.common.tokens import Principal
from cloud.tables import DeviceIdentity, Profile, now

router = APIRouter(prefix="/v1/profile", tags=["profile"])
Reader = Annotated[Principal, Depends(require("profile:read"))]
Writer = Annotated[Principal, Depends(require("profile:write"))]


class ProfileBase(SQLModel):
    name: str = Field(default="", max_length=100)
    language: str = Field(default="en", min_length=2, max_length=16)
    voice: str = Field(default="tts-joe-medium", max_length=64)
    wake_word: str = Field(default="hey_jarvis", max_length=32)
    timezone: str = Field(default="UTC", max_length=64)
    preferences: dict[str, Any] = Field(default_factory=dict)


class ProfilePublic(ProfileBase):
    updated_at: datetime


class ProfileUpdate(SQLModel):
    name: str | None = Field(default=None, max_length=100)
    language: str | None = Field(default=None, min_length=2, max_length=16)
    voice: str | None = Field(default=None, max_length=64)
    wake_word: str | None = Field(default=None, max_length=32)
    timezone: str | None = Field(default=None, max_length=64)
    preferences: dict[str, Any] | None = None


class ClientPublic(SQLModel):
    id: str
    kind: str
    name: str
    created_at: datetime
    active: bool


def _check_timezone(tz: str | None) -> None:
    from cloud.common.errors import ApiError
    from common.wire import is_timezone

    if tz is not None and not is_timezone(tz):
        raise ApiError(f"unknown timezone {tz!r}", code="INVALID_TIMEZONE", status=422)


@router.get("", summary="The user's profile")
async def read_profile(session: SessionDep, principal: Reader) -> ProfilePublic:
    profile = await session.get(Profile, principal.user_id) or Profile(user_id=principal.user_id)
    return ProfilePublic.model_validate(profile, from_attributes=True)


@router.patch("", summary="Change some fields of the profile")
async def update_profile(body: ProfileUpdate, session: SessionDep, principal: Writer) -> ProfilePublic:
    _check_timezone(body.timezone)
    profile = await session.get(Profile, principal.user_id) or Profile(user_id=principal.user_id)
    for key, value in body.model_dump(exclude_unset=True, exclude_none=True).items():
        setattr(profile, key, value)
    profile.updated_at = now()
    session.add(profile)
    await session.commit()
    await session.refresh(profile)
    return ProfilePublic.model_validate(profile, from_attributes=True)


@router.get("/clients", summary="The user's hubs and apps")
async def clients(session: SessionDep, principal: Reader) -> list[ClientPublic]:
    rows = (await session.exec(select(DeviceIdentity).where(DeviceIdentity.user_id == principal.user_id))).all()
    return [
        ClientPublic(id=r.id, kind=r.kind, name=r.name, created_at=r.created_at, active=r.revoked_at is None)
        for r in rows
    ]


service = Service("profile", router)
