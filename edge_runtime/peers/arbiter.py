"""Which hub answers a wake word that several hubs heard: the one that heard it best.

On a wake each hub publishes a claim (its wake score and the speech level of the wake phrase) and
keeps listening. Every hub orders the same claims the same way (`Claim.rank`), so without any more
messages they agree who won; `decide` gives that provisional verdict `window_s` after detection.

Only the winner acts. When a hub's turn reaches the brain (`owns`), the winner says `taken` and goes on;
the others wait for that `taken` and then drop the turn without a sound. A winner that went offline
(its last will), or that says nothing for `wait_s`, is passed over: the next best claim answers, so a
peer dying mid-turn costs a bounded wait, never the answer. A hub with no peer online never waits."""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from dataclasses import dataclass, field

from edge_runtime.peers.link import PeerLink
from edge_runtime.peers.wire import Claim, PeerMessage, Status, Taken

log = logging.getLogger("companion.peers")
GROUP_S = 1.5  # claims this close to ours are the same spoken wake word


@dataclass
class Verdict:
    """One wake word's outcome on this hub."""

    claim: Claim
    detected: float  # monotonic
    rivals: dict[str, Claim] = field(default_factory=dict)  # the other hubs' claims for this wake
    winner: str | None = None  # provisional, `window_s` after detection
    decided_ms: float | None = None
    mine: bool | None = None  # final: this hub answers (True) or stays silent (False)
    passed_over: set[str] = field(default_factory=set)


class Arbiter:
    def __init__(self, link: PeerLink, *, window_s: float = 0.1, wait_s: float = 2.0) -> None:
        self.link, self.window_s, self.wait_s = link, window_s, wait_s
        self.current: Verdict | None = None
        self._recent: list[tuple[float, Claim]] = []  # peers' claims, by arrival
        self._taken: dict[str, str] = {}  # wake_id -> the hub that took it
        self._waiting: set[asyncio.Event] = set()
        link.listeners.append(self._heard)

    def claim(self, score: float, level_db: float) -> Verdict:
        """This hub heard the wake word: tell the peers, and start a verdict."""
        now = time.monotonic()
        mine = Claim(hub=self.link.hub_id, wake_id=secrets.token_hex(6), score=score, level_db=round(level_db, 2))
        verdict = Verdict(mine, now)
        for arrived, rival in self._recent:
            if abs(arrived - now) <= GROUP_S:
                verdict.rivals[rival.hub] = rival
        self.current = verdict
        if self.link.online():
            self.link.publish(mine)
        return verdict

    def release(self) -> None:
        """A turn not begun by a wake word (push-to-talk, typed): nobody else heard it."""
        self.current = None

    async def decide(self, verdict: Verdict) -> str:
        """The provisional winner: as soon as every peer online has claimed, or after `window_s`."""
        deadline = verdict.detected + self.window_s
        while self._missing(verdict) and (left := deadline - time.monotonic()) > 0:
            await self._change(left)
        verdict.winner = self._best(verdict).hub
        verdict.decided_ms = round(1000 * (time.monotonic() - verdict.detected), 1)
        log.info(
            "peers.arbitrated",
            extra={"winner": verdict.winner, "mine": verdict.winner == self.link.hub_id, "ms": verdict.decided_ms},
        )
        return verdict.winner

    async def owns(self) -> bool:
        """Whether this hub answers the current turn; waits on the winner at most `wait_s` per hub passed."""
        verdict = self.current
        if verdict is None:
            return True
        deadlines: dict[str, float] = {}  # by when each better hub must have said "taken"
        while verdict.mine is None:
            best = self._best(verdict)
            taken_by = next((self._taken[c.wake_id] for c in self._claims(verdict) if c.wake_id in self._taken), None)
            if taken_by is not None:
                verdict.mine = False
                log.info("peers.yielded", extra={"to": taken_by})
            elif best.hub == self.link.hub_id:
                verdict.mine = True
                if self.link.online():
                    self.link.publish(Taken(hub=self.link.hub_id, wake_id=verdict.claim.wake_id))
            else:
                until = deadlines.setdefault(best.hub, time.monotonic() + self.wait_s)
                if not await self._change(until - time.monotonic()) and time.monotonic() >= until:
                    log.warning("peers.passed_over", extra={"peer": best.hub, "waited_s": self.wait_s})
                    verdict.passed_over.add(best.hub)
        return verdict.mine

    # --- helpers

    def _missing(self, verdict: Verdict) -> bool:
        return any(p.hub not in verdict.rivals for p in self.link.online())

    def _claims(self, verdict: Verdict) -> list[Claim]:
        return [verdict.claim, *verdict.rivals.values()]

    def _best(self, verdict: Verdict) -> Claim:
        def standing(claim: Claim) -> bool:
            if claim.hub == self.link.hub_id:
                return True
            peer = self.link.peers.get(claim.hub)
            return peer is not None and peer.online and claim.hub not in verdict.passed_over

        return max((c for c in self._claims(verdict) if standing(c)), key=Claim.rank)

    def _heard(self, message: PeerMessage, arrived: float) -> None:
        if isinstance(message, Claim):
            self._recent = [(t, c) for t, c in self._recent if arrived - t <= GROUP_S] + [(arrived, message)]
            verdict = self.current
            if verdict is not None and verdict.mine is None and abs(arrived - verdict.detected) <= GROUP_S:
                verdict.rivals[message.hub] = message
        elif isinstance(message, Taken):
            self._taken[message.wake_id] = message.hub
            if len(self._taken) > 256:
                self._taken.pop(next(iter(self._taken)))
        elif not isinstance(message, Status):
            return
        for waiter in self._waiting:
            waiter.set()

    async def _change(self, timeout_s: float) -> bool:
        """Until a claim, a `taken` or a status arrives (True), or `timeout_s` passes (False)."""
        if timeout_s <= 0:
            return False
        waiter = asyncio.Event()
        self._waiting.add(waiter)
        try:
            await asyncio.wait_for(waiter.wait(), timeout_s)
            return True
        except TimeoutError:
            return False
        finally:
            self._waiting.discard(waiter)
