"""Whether a valid token's account and device still stand.

The database is the truth: a revoked device has `revoked_at`, a deleted account has no row. The
store (Redis, or in-process) caches its answers: "revoked" and "gone" for as long as any access
token lives, "ok" for a few seconds. Nothing here relies on the store having kept anything: when it
may have lost its keys (a marker key is missing, or the store reconnected to a restarted Redis) or
cannot be reached, the answer comes from the database, and the cache is rebuilt in the background
from the devices revoked within one access-token lifetime. Requests that miss the cache for the
same principal at once share one database lookup (its answer is at most that lookup's few
milliseconds old; a revocation published meanwhile is read from the cache by later requests). Revocations and deletions
are also kept in-process: they are final, so that copy is never stale.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from cloud.common.errors import CacheUnavailable, Unauthorized
from cloud.common.store import Store
from cloud.common.tokens import Principal
from cloud.tables import DeviceIdentity, User

log = logging.getLogger("cloud.authz")
BUILT = "authz:built"  # present while the store holds every recent revocation
OK, REVOKED, GONE = "ok", "revoked", "gone"
FINAL_KEPT = 100_000  # in-process revocations and deletions remembered (least recently seen dropped)


def user_key(user_id: str) -> str:
    return f"authz:user:{user_id}"


def device_key(device_id: str) -> str:
    return f"authz:dev:{device_id}"


class Authz:
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], store: Store, *, ok_ttl_s: float, final_ttl_s: float
    ) -> None:
        self.sessions, self.store = sessions, store
        self.ok_ttl_s, self.final_ttl_s = ok_ttl_s, final_ttl_s
        self._final: OrderedDict[str, str] = OrderedDict()
        self._built_generation: int | None = None  # the store's generation our last rebuild covered
        self._rebuild: asyncio.Task[None] | None = None
        self._asking: dict[tuple[str, ...], asyncio.Task[list[str | None]]] = {}  # one database lookup at a time

    async def check(self, principal: Principal) -> None:
        """Raises 401 ACCOUNT_GONE or TOKEN_REVOKED; returns if the token may act."""
        keys = [user_key(principal.user_id)] + ([device_key(principal.device_id)] if principal.device_id else [])
        for key in keys:  # the account first: a deleted account's devices say ACCOUNT_GONE
            if final := self._final.get(key):
                raise _refusal(final)
        verdicts = await self._cached(keys) or await self._ask_database(principal, keys)
        for key, verdict in zip(keys, verdicts, strict=True):
            if verdict != OK:
                self._remember(key, verdict or REVOKED)
                raise _refusal(verdict or REVOKED)

    async def revoked(self, device_id: str) -> None:
        """Call after the revocation is committed: every process refuses the device from now on."""
        await self._publish(device_key(device_id), REVOKED)

    async def account_exists(self, user_id: str) -> bool:
        """Asks the database, not the cache (for a write a foreign key just refused)."""
        async with self.sessions() as s:
            found = await s.get(User, user_id) is not None
        if not found:
            await self._publish(user_key(user_id), GONE)
        return found

    async def gone(self, user_id: str) -> None:
        await self._publish(user_key(user_id), GONE)

    async def rebuild(self) -> None:
        """Write every recent revocation into the store, then the marker that says it holds them all."""
        generation = self.store.generation
        since = datetime.now(UTC) - timedelta(seconds=self.final_ttl_s)
        async with self.sessions() as s:
            rows = (await s.exec(select(DeviceIdentity.id).where(col(DeviceIdentity.revoked_at) >= since))).all()
        for device_id in rows:
            await self.store.set(device_key(device_id), REVOKED, self.final_ttl_s)
        await self.store.set(BUILT, "1")
        self._built_generation = generation
        log.info("authz.rebuilt", extra={"revoked": len(rows), "generation": generation})

    async def _cached(self, keys: list[str]) -> list[str | None] | None:
        """The store's answers, or None when they cannot be trusted (then a rebuild is started)."""
        try:
            built, *values = await self.store.get_many(BUILT, *keys)
        except CacheUnavailable:
            self._built_generation = None
            return None
        if built is None or self._built_generation != self.store.generation:
            self._start_rebuild()
            return None
        return values if all(values) else None

    async def _ask_database(self, principal: Principal, keys: list[str]) -> list[str | None]:
        """The requests that miss the cache together (as every request of a busy token does when its
        "ok" expires) share one lookup of their principal, started by the first of them."""
        asked = tuple(keys)  # the user, and the device if any: all the lookup depends on
        task = self._asking.get(asked)
        if task is None:
            task = asyncio.ensure_future(self._from_database(principal, keys))
            self._asking[asked] = task
            task.add_done_callback(lambda done: self._asked(asked, done))
        return list(await asyncio.shield(task))  # a waiter that leaves does not cancel it for the others

    def _asked(self, asked: tuple[str, ...], done: asyncio.Task[list[str | None]]) -> None:
        self._asking.pop(asked, None)
        if not done.cancelled():
            done.exception()  # retrieved here too: every waiter may have left before it failed

    async def _from_database(self, principal: Principal, keys: list[str]) -> list[str | None]:
        async with self.sessions() as s:
            verdicts = [OK if await s.get(User, principal.user_id) is not None else GONE]
            if principal.device_id:
                device = await s.get(DeviceIdentity, principal.device_id)
                standing = device is not None and device.revoked_at is None and device.user_id == principal.user_id
                verdicts.append(OK if standing else REVOKED)
        for key, verdict in zip(keys, verdicts, strict=True):
            try:
                if verdict == OK:
                    await self.store.add(key, OK, self.ok_ttl_s)  # never over a revocation written meanwhile
                else:
                    await self._publish(key, verdict)
            except CacheUnavailable:
                break
        return list(verdicts)

    async def _publish(self, key: str, verdict: str) -> None:
        self._remember(key, verdict)
        try:
            await self.store.set(key, verdict, self.final_ttl_s)
        except CacheUnavailable:
            log.warning("authz.cache_write_failed", extra={"key": key, "code": "CACHE_UNAVAILABLE"})
            self._built_generation = None  # rebuilt from the database when the store is back

    def _remember(self, key: str, verdict: str) -> None:
        self._final[key] = verdict
        self._final.move_to_end(key)
        while len(self._final) > FINAL_KEPT:
            self._final.popitem(last=False)

    def _start_rebuild(self) -> None:
        if self._rebuild is None or self._rebuild.done():
            self._rebuild = asyncio.create_task(self._rebuild_quietly(), name="authz-rebuild")

    async def _rebuild_quietly(self) -> None:
        try:
            await self.rebuild()
        except Exception as err:  # the next check tries again
            log.warning("authz.rebuild_failed", extra={"error": type(err).__name__})


def _refusal(verdict: str) -> Unauthorized:
    if verdict == GONE:
        return Unauthorized("this account no longer exists", code="ACCOUNT_GONE")
    return Unauthorized("this device's access has been revoked", code="TOKEN_REVOKED")
