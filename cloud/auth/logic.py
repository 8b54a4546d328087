"""Accounts, rotating refresh tokens, device identities and the device authorization grant."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import VerificationError
from sqlmodel import col, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from cloud.auth.schemas import DEFAULT_HUB_SCOPES, KNOWN_SCOPES, DeviceCodePublic, TokenPublic
from cloud.common.authz import Authz
from cloud.common.errors import Conflict, NotFound, OAuthError
from cloud.common.settings import CloudSettings
from cloud.common.tokens import Principal, digest, issue_access, new_secret, new_user_code
from cloud.tables import DeviceAuthorization, DeviceIdentity, Profile, RefreshToken, User, new_id, now

hasher = PasswordHasher()
DUMMY_HASH = hasher.hash("timing-equaliser")


def _aware(ts: datetime) -> datetime:
    return ts if ts.tzinfo else ts.replace(tzinfo=UTC)  # SQLite hands back naive datetimes


async def register(s: AsyncSession, email: str, password: str, name: str) -> User:
    email = email.lower()
    if (await s.exec(select(User).where(User.email == email))).first():
        raise Conflict("an account with this email exists", code="ACCOUNT_EXISTS")
    user = User(email=email, password_hash=hasher.hash(password))
    s.add(user)
    await s.flush()
    s.add(Profile(user_id=user.id, name=name))
    await s.commit()
    return user


async def authenticate(s: AsyncSession, email: str, password: str) -> User:
    user = (await s.exec(select(User).where(User.email == email.lower()))).first()
    try:
        hasher.verify(user.password_hash if user else DUMMY_HASH, password)  # same cost either way
    except VerificationError:
        user = None
    if user is None:
        raise OAuthError("invalid_grant", "wrong email or password")
    return user


async def issue(
    s: AsyncSession, settings: CloudSettings, key: str, principal: Principal, family: str | None = None
) -> TokenPublic:
    secret = new_secret()
    s.add(
        RefreshToken(
            family=family or new_id(),
            token_hash=digest(secret),
            user_id=principal.user_id,
            device_id=principal.device_id,
            scopes=" ".join(sorted(principal.scopes)),
            expires_at=now() + timedelta(seconds=settings.refresh_token_ttl_s),
        )
    )
    await s.commit()
    return TokenPublic(
        access_token=issue_access(key, principal, settings.access_token_ttl_s),
        expires_in=settings.access_token_ttl_s,
        refresh_token=secret,
        scope=" ".join(sorted(principal.scopes)),
    )


async def rotate(s: AsyncSession, settings: CloudSettings, key: str, secret: str) -> TokenPublic:
    token = (await s.exec(select(RefreshToken).where(RefreshToken.token_hash == digest(secret)))).first()
    if token is None:
        raise OAuthError("invalid_grant", "unknown refresh token")
    if token.used_at is not None or token.revoked_at is not None:
        await revoke_family(s, token.family)  # a spent token came back: assume it was stolen
        raise OAuthError("invalid_grant", "this refresh token was already used or revoked; sign in again")
    if _aware(token.expires_at) < now():
        raise OAuthError("invalid_grant", "the refresh token has expired")
    if token.device_id:
        device = await s.get(DeviceIdentity, token.device_id)
        if device is None or device.revoked_at is not None:
            raise OAuthError("invalid_grant", "this device has been unlinked")
    # Spent by a conditional update: of uses that race, one wins; the rest are reuse, as above.
    spend = (
        update(RefreshToken)
        .where(
            col(RefreshToken.id) == token.id,
            col(RefreshToken.used_at).is_(None),
            col(RefreshToken.revoked_at).is_(None),
        )
        .values(used_at=now())
    )
    if (await s.exec(spend)).rowcount != 1:
        family = token.family  # read before the rollback expires it
        await s.rollback()
        await revoke_family(s, family)
        raise OAuthError("invalid_grant", "this refresh token was already used or revoked; sign in again")
    principal = Principal(token.user_id, token.device_id, frozenset(token.scopes.split()))
    return await issue(s, settings, key, principal, family=token.family)


async def revoke_family(s: AsyncSession, family: str) -> None:
    for token in (await s.exec(select(RefreshToken).where(RefreshToken.family == family))).all():
        token.revoked_at = token.revoked_at or now()
        s.add(token)
    await s.commit()


async def revoke(s: AsyncSession, secret: str) -> None:
    """RFC 7009: revoking an unknown token is not an error."""
    token = (await s.exec(select(RefreshToken).where(RefreshToken.token_hash == digest(secret)))).first()
    if token is not None:
        await revoke_family(s, token.family)


def parse_scopes(requested: str, default: str = DEFAULT_HUB_SCOPES) -> frozenset[str]:
    scopes = frozenset((requested or default).split())
    unknown = scopes - KNOWN_SCOPES
    if unknown:
        raise OAuthError("invalid_scope", f"unknown scopes: {' '.join(sorted(unknown))}")
    return scopes


async def create_device(
    s: AsyncSession, user_id: str, kind: str, name: str, scopes: frozenset[str], client_id: str = ""
) -> DeviceIdentity:
    device = DeviceIdentity(user_id=user_id, kind=kind, name=name, client_id=client_id, scopes=" ".join(sorted(scopes)))
    s.add(device)
    await s.commit()
    await s.refresh(device)
    return device


async def revoke_device(s: AsyncSession, authz: Authz, user_id: str, device_id: str) -> None:
    device = await s.get(DeviceIdentity, device_id)
    if device is None or device.user_id != user_id:
        raise NotFound("no such device", code="DEVICE_NOT_FOUND")  # another user's looks the same as none
    device.revoked_at = device.revoked_at or now()
    s.add(device)
    for token in (await s.exec(select(RefreshToken).where(RefreshToken.device_id == device_id))).all():
        token.revoked_at = token.revoked_at or now()
        s.add(token)
    await s.commit()
    await authz.revoked(device_id)  # live access tokens die now, in every process


async def start_device_grant(
    s: AsyncSession, settings: CloudSettings, client_id: str, client_name: str, scope: str, verification_uri: str
) -> DeviceCodePublic:
    scopes = parse_scopes(scope)
    device_code, user_code = new_secret(), new_user_code()
    s.add(
        DeviceAuthorization(
            device_code_hash=digest(device_code),
            user_code=user_code,
            client_id=client_id,
            client_name=(client_name or client_id)[:100],
            scope=" ".join(sorted(scopes)),
            expires_at=now() + timedelta(seconds=settings.device_code_ttl_s),
        )
    )
    await s.commit()
    uri = verification_uri
    return DeviceCodePublic(
        device_code=device_code,
        user_code=user_code,
        verification_uri=uri,
        verification_uri_complete=f"{uri}?code={user_code}",
        expires_in=settings.device_code_ttl_s,
        interval=settings.device_code_interval_s,
    )


async def decide_device_grant(s: AsyncSession, user_id: str, user_code: str, approve: bool) -> DeviceAuthorization:
    code = user_code.strip().upper()
    code = code if "-" in code else f"{code[:4]}-{code[4:]}"
    grant = (await s.exec(select(DeviceAuthorization).where(DeviceAuthorization.user_code == code))).first()
    if grant is None or grant.status != "pending" or _aware(grant.expires_at) < now():
        raise NotFound("no pending request with this code (it may have expired)", code="USER_CODE_UNKNOWN")
    grant.status, grant.user_id = ("approved" if approve else "denied"), user_id
    s.add(grant)
    await s.commit()
    return grant


async def poll_device_grant(s: AsyncSession, settings: CloudSettings, key: str, device_code: str) -> TokenPublic:
    code_hash = digest(device_code)
    grant = await s.get(DeviceAuthorization, code_hash)
    if grant is None:
        raise OAuthError("invalid_grant", "unknown device code")
    if _aware(grant.expires_at) < now():
        raise OAuthError("expired_token", "the device code has expired; start again")
    polled, grant.last_poll_at = grant.last_poll_at, now()
    s.add(grant)
    await s.commit()
    if grant.status == "pending":
        if polled and now() - _aware(polled) < timedelta(seconds=settings.device_code_interval_s * 0.8):
            raise OAuthError("slow_down", f"poll at most every {settings.device_code_interval_s} s")
        raise OAuthError("authorization_pending", "waiting for the user to approve")
    if grant.status == "denied":
        raise OAuthError("access_denied", "the user declined")
    # Redeemed by a conditional update: of polls that race, exactly one turns "approved" into
    # "consumed" (the others wait on the row lock, then match nothing), and only it gets tokens.
    claim = (
        update(DeviceAuthorization)
        .where(col(DeviceAuthorization.device_code_hash) == code_hash, col(DeviceAuthorization.status) == "approved")
        .values(status="consumed")
    )
    if grant.status != "approved" or (await s.exec(claim)).rowcount != 1:
        await s.rollback()
        raise OAuthError("invalid_grant", "this device code was already used")
    assert grant.user_id is not None
    scopes = frozenset(grant.scope.split())
    device = DeviceIdentity(
        user_id=grant.user_id,
        kind="hub",
        name=grant.client_name,
        client_id=grant.client_id,
        scopes=" ".join(sorted(scopes)),
    )
    s.add(device)
    return await issue(s, settings, key, Principal(grant.user_id, device.id, scopes))  # one commit: claim and all
