"""/v1/auth: accounts, the OAuth token endpoint (password, refresh, device code), device identities."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request, status
from sqlmodel import select

from cloud.auth import logic
from cloud.auth.schemas import (
    KNOWN_SCOPES,
    DeviceApproval,
    DeviceCodePublic,
    DeviceCreate,
    DeviceCredentials,
    DevicePublic,
    RevokeRequest,
    TokenPublic,
    UserCreate,
    UserPublic,
)
from cloud.common.auth import CurrentPrincipal, CurrentUser
from cloud.common.db import SessionDep
from cloud.common.errors import OAuthError, Unauthorized
from cloud.common.ratelimit import enforce
from cloud.common.tokens import Principal
from cloud.tables import DeviceIdentity, User
from common.wire import DEVICE_GRANT

router = APIRouter(prefix="/v1/auth", tags=["auth"])
ALL_USER_SCOPES = frozenset(KNOWN_SCOPES)


async def _bootstrap_limit(request: Request, what: str) -> None:
    """Unauthenticated routes are limited per client address, so passwords can't be sprayed."""
    client = request.client.host if request.client else "unknown"
    settings = request.app.state.settings
    limit = max(10, settings.rate_limit_per_minute // 10)
    counted = request.app.state.limiter.hit(f"ip:{what}:{client}", limit, settings.rate_limit_window_s)
    await enforce(counted, "too many attempts")


@router.post("/register", status_code=status.HTTP_201_CREATED, summary="Create an account (no token needed)")
async def register(body: UserCreate, session: SessionDep, request: Request) -> UserPublic:
    await _bootstrap_limit(request, "register")
    user = await logic.register(session, body.email, body.password, body.name)
    return UserPublic.model_validate(user, from_attributes=True)


@router.post("/token", summary="OAuth 2.0 token endpoint: password, refresh_token, device_code grants")
async def token(
    request: Request,
    session: SessionDep,
    grant_type: Annotated[str, Form(max_length=64)],
    username: Annotated[str | None, Form(max_length=254)] = None,
    password: Annotated[str | None, Form(max_length=256)] = None,
    refresh_token: Annotated[str | None, Form(max_length=512)] = None,
    device_code: Annotated[str | None, Form(max_length=512)] = None,
) -> TokenPublic:
    await _bootstrap_limit(request, "token")
    state = request.app.state
    if grant_type == "password" and username and password:
        user = await logic.authenticate(session, username, password)
        return await logic.issue(session, state.settings, state.signing_key, Principal(user.id, None, ALL_USER_SCOPES))
    if grant_type == "refresh_token" and refresh_token:
        return await logic.rotate(session, state.settings, state.signing_key, refresh_token)
    if grant_type == DEVICE_GRANT and device_code:
        return await logic.poll_device_grant(session, state.settings, state.signing_key, device_code)
    known = grant_type in ("password", "refresh_token", DEVICE_GRANT)
    raise OAuthError(
        "invalid_request" if known else "unsupported_grant_type",
        f"grant_type {grant_type!r} with these fields is not supported",
    )


@router.post("/revoke", summary="Revoke a refresh token and its whole rotation family (RFC 7009)")
async def revoke(body: RevokeRequest, session: SessionDep, _: CurrentPrincipal) -> dict[str, bool]:
    await logic.revoke(session, body.token)
    return {"revoked": True}


@router.post("/device/code", summary="RFC 8628 device authorization request, for a hub with no keyboard")
async def device_code(
    request: Request,
    session: SessionDep,
    client_id: Annotated[str, Form(min_length=1, max_length=128)],
    client_name: Annotated[str, Form(max_length=100)] = "",
    scope: Annotated[str, Form(max_length=500)] = "",
) -> DeviceCodePublic:
    await _bootstrap_limit(request, "device")
    settings = request.app.state.settings
    uri = settings.verification_uri or f"{str(request.base_url).rstrip('/')}/link"  # the address the hub used
    return await logic.start_device_grant(session, settings, client_id, client_name, scope, uri)


@router.post("/device/approve", summary="The signed-in user approves (or denies) a hub's user code")
async def approve(body: DeviceApproval, session: SessionDep, user: CurrentUser) -> dict[str, str]:
    grant = await logic.decide_device_grant(session, user.user_id, body.user_code, body.approve)
    return {"status": grant.status, "client_id": grant.client_id}


@router.get("/me", summary="Who this token belongs to")
async def me(principal: CurrentPrincipal, session: SessionDep, request: Request) -> dict[str, object]:
    user = await session.get(User, principal.user_id)
    if user is None:  # deleted since the cached check said otherwise
        await request.app.state.authz.gone(principal.user_id)
        raise Unauthorized("this account no longer exists", code="ACCOUNT_GONE")
    return {
        "user_id": principal.user_id,
        "email": user.email,
        "device_id": principal.device_id,
        "scopes": sorted(principal.scopes) if principal.limited else sorted(ALL_USER_SCOPES),
    }


@router.get("/devices", summary="The user's hubs and apps")
async def list_devices(session: SessionDep, user: CurrentUser) -> list[DevicePublic]:
    rows = (await session.exec(select(DeviceIdentity).where(DeviceIdentity.user_id == user.user_id))).all()
    return [DevicePublic.model_validate(r, from_attributes=True) for r in rows]


@router.post("/devices", status_code=status.HTTP_201_CREATED, summary="A new device identity with its own tokens")
async def create_device(
    body: DeviceCreate, session: SessionDep, user: CurrentUser, request: Request
) -> DeviceCredentials:
    scopes = logic.parse_scopes(body.scopes)
    device = await logic.create_device(session, user.user_id, body.kind, body.name, scopes)
    state = request.app.state
    tokens = await logic.issue(session, state.settings, state.signing_key, Principal(user.user_id, device.id, scopes))
    return DeviceCredentials(device=DevicePublic.model_validate(device, from_attributes=True), tokens=tokens)


@router.post("/devices/self/revoke", summary="A hub or app unlinks itself: its tokens stop working at once")
async def revoke_self(session: SessionDep, principal: CurrentPrincipal, request: Request) -> dict[str, bool]:
    if principal.device_id is None:
        raise OAuthError("invalid_request", "only a device token can unlink itself")
    state = request.app.state
    await logic.revoke_device(session, state.authz, principal.user_id, principal.device_id)
    return {"revoked": True}


@router.delete("/devices/{device_id}", summary="Unlink a device: its tokens stop working at once")
async def delete_device(device_id: str, session: SessionDep, user: CurrentUser, request: Request) -> dict[str, bool]:
    state = request.app.state
    await logic.revoke_device(session, state.authz, user.user_id, device_id)
    return {"revoked": True}
