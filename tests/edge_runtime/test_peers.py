"""Several hubs in one home (#21), their peer layer on a real Mosquitto: sealed messages, wake
arbitration between three hubs, a winner that dies or hangs, announcements, and a stranger hub."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import paho.mqtt.client as mqtt
import pytest

from edge_runtime.peers import Announce, Arbiter, Claim, Home, HomePeers, PeerError, PeerLink, Status, Stop
from edge_runtime.peers.wire import MAX_AGE_S, sealed, unsealed


async def _until(check: Any, timeout_s: float = 5.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        await asyncio.sleep(0.01)


class Hubs:
    """Hub peer layers in this process, each with its own MQTT connection like a hub process."""

    def __init__(self, url: str) -> None:
        from device_drivers.mqtt_url import BrokerAddress

        self.url = url
        self.address = BrokerAddress.parse(url)
        self.all: list[HomePeers] = []

    async def add(self, home: Home, hub: str, room: str | None = None, *, wait_s: float = 2.0) -> HomePeers:
        link = PeerLink(home, hub, self.url, room=room, name=hub)
        await link.start()
        await asyncio.wait_for(link.connected.wait(), 5)
        peers = HomePeers(link, Arbiter(link, window_s=0.1, wait_s=wait_s))
        self.all.append(peers)
        return peers

    async def close(self) -> None:
        for peers in self.all:
            if peers.link.client.is_connected():
                await peers.link.stop()
            else:
                peers.link.client.loop_stop()


def play(mosquitto: Any, scenario: Any) -> None:
    """Run a scenario on its own event loop, with the hubs it made stopped afterwards."""

    async def main() -> None:
        hubs = Hubs(mosquitto.url)
        try:
            await scenario(hubs)
        finally:
            await hubs.close()

    asyncio.run(main())


def test_a_sealed_message_opens_only_with_its_homes_key_on_its_own_topic() -> None:
    home, stranger = Home.new(), Home.new()
    where, payload = sealed(home, Claim(hub="a", wake_id="w1", score=0.9, level_db=-20))
    opened = unsealed(home, where, payload)
    assert isinstance(opened, Claim) and opened.level_db == -20
    with pytest.raises(PeerError) as err:  # another home's key
        unsealed(stranger, where.replace(home.home_id, stranger.home_id), payload)
    assert err.value.code == "PEER_UNAUTHENTICATED"
    tampered = payload[:-1] + bytes([payload[-1] ^ 1])
    with pytest.raises(PeerError):
        unsealed(home, where, tampered)
    with pytest.raises(PeerError):  # moved to another hub's topic: the topic is sealed in
        unsealed(home, where.replace("companion/a/", "companion/b/"), payload)
    old_where, old = sealed(home, Claim(hub="a", wake_id="w0", score=0.9, level_db=-20, t=time.time() - 2 * MAX_AGE_S))
    with pytest.raises(PeerError) as err:
        unsealed(home, old_where, old)
    assert err.value.code == "PEER_STALE"
    for bad in (b"short", b"c2hvcnQ=", b"\x9a\x00 not base64"):
        with pytest.raises(PeerError) as err:
            unsealed(home, where, bad)
        assert err.value.code == "PEER_MALFORMED"


def test_the_join_token_round_trips_and_a_damaged_one_is_refused() -> None:
    home = Home.new()
    assert Home.from_token(home.token()).home_id == home.home_id
    for bad in ("", "home1.", "home1.abc", "nothome." + home.token()[6:], home.token()[:-4]):
        with pytest.raises(Exception) as err:
            Home.from_token(bad)
        assert getattr(err.value, "code", "") == "HOME_TOKEN_INVALID", bad


async def _wake(hub: HomePeers, level_db: float, score: float = 0.9) -> Any:
    verdict = hub.arbiter.claim(score, level_db)
    return verdict, asyncio.create_task(hub.arbiter.decide(verdict))


def test_three_hubs_agree_the_loudest_answers_and_the_others_stay_silent(mosquitto) -> None:  # type: ignore[no-untyped-def]
    play(mosquitto, _three_hubs_agree_the_loudest_answers_and_the_others_stay_silent)


async def _three_hubs_agree_the_loudest_answers_and_the_others_stay_silent(hubs: Hubs) -> None:
    home = Home.new()
    a, b, c = [await hubs.add(home, name) for name in ("hub-a", "hub-b", "hub-c")]
    await _until(lambda: all(len(h.link.online()) == 2 for h in (a, b, c)))
    levels = {"hub-a": -32.0, "hub-b": -20.0, "hub-c": -26.0}  # 6 dB apart; b is the loudest
    started = time.monotonic()
    woken = [await _wake(h, levels[h.hub_id]) for h in (a, b, c)]
    winners = [await task for _, task in woken]
    assert winners == ["hub-b"] * 3
    decided = [verdict.decided_ms for verdict, _ in woken]
    assert all(ms is not None and ms < 150 for ms in decided), decided
    assert time.monotonic() - started < 1.0
    owns = await asyncio.gather(a.arbiter.owns(), b.arbiter.owns(), c.arbiter.owns())
    assert owns == [False, True, False]


def test_a_winner_killed_after_its_claim_is_passed_over_by_the_next_loudest(mosquitto) -> None:  # type: ignore[no-untyped-def]
    play(mosquitto, _a_winner_killed_after_its_claim_is_passed_over_by_the_next_loudest)


async def _a_winner_killed_after_its_claim_is_passed_over_by_the_next_loudest(hubs: Hubs) -> None:
    home = Home.new()
    a, b, c = [await hubs.add(home, name, wait_s=5.0) for name in ("hub-a", "hub-b", "hub-c")]
    await _until(lambda: all(len(h.link.online()) == 2 for h in (a, b, c)))
    levels = {"hub-a": -32.0, "hub-b": -20.0, "hub-c": -26.0}
    woken = [await _wake(h, levels[h.hub_id]) for h in (a, b, c)]
    assert [await task for _, task in woken] == ["hub-b"] * 3
    # hub-b dies without a goodbye: the broker sees its connection drop and sends its last will.
    b.link.client.loop_stop()
    sock = b.link.client.socket()
    assert sock is not None
    sock.close()
    started = time.monotonic()
    owns = await asyncio.gather(a.arbiter.owns(), c.arbiter.owns())
    assert owns == [False, True]  # c was next loudest
    assert time.monotonic() - started < 4.0  # the will, not the 5 s wait, passed b over


def test_a_winner_that_hangs_is_passed_over_after_the_bounded_wait(mosquitto) -> None:  # type: ignore[no-untyped-def]
    play(mosquitto, _a_winner_that_hangs_is_passed_over_after_the_bounded_wait)


async def _a_winner_that_hangs_is_passed_over_after_the_bounded_wait(hubs: Hubs) -> None:
    home = Home.new()
    a, b = [await hubs.add(home, name, wait_s=0.5) for name in ("hub-a", "hub-b")]
    await _until(lambda: len(a.link.online()) == 1 and len(b.link.online()) == 1)
    for hub, level in ((a, -30.0), (b, -20.0)):
        await _wake(hub, level)
    await asyncio.sleep(0.2)
    started = time.monotonic()
    assert await a.arbiter.owns() is True  # b never said "taken": a answers after its wait
    assert 0.45 < time.monotonic() - started < 2.0


def test_a_hub_alone_never_waits(mosquitto) -> None:  # type: ignore[no-untyped-def]
    play(mosquitto, _a_hub_alone_never_waits)


async def _a_hub_alone_never_waits(hubs: Hubs) -> None:
    alone = await hubs.add(Home.new(), "hub-alone")
    verdict, task = await _wake(alone, -40.0)
    assert await task == "hub-alone" and verdict.decided_ms is not None and verdict.decided_ms < 20
    started = time.monotonic()
    assert await alone.arbiter.owns() is True
    assert time.monotonic() - started < 0.05


def test_a_stranger_on_the_broker_cannot_win_a_wake_nor_hear_an_announcement(mosquitto) -> None:  # type: ignore[no-untyped-def]
    play(mosquitto, _a_stranger_on_the_broker_cannot_win_a_wake_nor_hear_an_announcement)


async def _a_stranger_on_the_broker_cannot_win_a_wake_nor_hear_an_announcement(hubs: Hubs) -> None:
    home = Home.new()
    a = await hubs.add(home, "hub-a", room="Kitchen")
    b = await hubs.add(home, "hub-b", room="Kids Room")
    c = await hubs.add(home, "hub-c", room="Office")
    stranger = await hubs.add(Home.new(), "hub-x", room="Kitchen")
    await _until(lambda: len(a.link.online()) == 2 and len(b.link.online()) == 2)
    heard: dict[str, list[str]] = {"hub-a": [], "hub-b": [], "hub-c": [], "hub-x": []}
    for peers in (a, b, c, stranger):

        async def say(text: str, hub: str, room: str | None, me: str = peers.hub_id) -> None:
            heard[me].append(text)

        peers.on_announce.append(say)
    sniffed: list[bytes] = []  # everything a snooping client on the same broker can read
    topics: set[str] = set()
    snoop = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="snoop")
    snoop.on_message = lambda c, u, m: (sniffed.append(bytes(m.payload)), topics.add(m.topic))
    snoop.connect(hubs.address.host, hubs.address.port)
    snoop.subscribe("#")
    snoop.loop_start()
    try:
        # The stranger forges a louder claim onto the home's topics with its own key: it is refused.
        where, forged = sealed(stranger.link.home, Claim(hub="hub-x", wake_id="x", score=1.0, level_db=0.0))
        stranger.link.client.publish(where.replace(stranger.link.home.home_id, home.home_id), forged, qos=1)
        await _until(lambda: a.link.refused >= 1 and b.link.refused >= 1)
        woken = [await _wake(h, lvl) for h, lvl in ((a, -30.0), (b, -20.0))]
        assert [await t for _, t in woken] == ["hub-b", "hub-b"]
        assert "hub-x" not in a.link.peers

        assert sorted(a.announce("Dinner is ready")) == ["hub-b", "hub-c"]
        await _until(lambda: heard["hub-b"] and heard["hub-c"])
        assert a.announce("Time for bed", rooms=["kids' room"]) == ["hub-b"]
        await _until(lambda: len(heard["hub-b"]) == 2)
        await asyncio.sleep(0.3)
        assert heard == {
            "hub-a": [],
            "hub-b": ["Dinner is ready", "Time for bed"],
            "hub-c": ["Dinner is ready"],
            "hub-x": [],
        }
        assert sniffed and not any(b"Dinner" in p or b"bed" in p or b"Kids" in p for p in sniffed)
        # Each hub publishes only under its own home's topics (the stranger under its own home's).
        homes = {home.home_id, stranger.link.home.home_id}
        # companion/<hub>/home/<home>/<kind>: under the sender's own prefix, nowhere else.
        assert {t.split("/")[3] for t in topics} == homes
        assert {(t.split("/")[0], t.split("/")[2]) for t in topics} == {("companion", "home")}
        assert {t.split("/")[1] for t in topics} == {"hub-a", "hub-b", "hub-c", "hub-x"}
        assert all(p.isascii() for p in sniffed)  # base64: a client reading companion/# as text gets text
    finally:
        snoop.loop_stop()
        snoop.disconnect()


def test_stop_said_on_one_hub_reaches_the_others(mosquitto) -> None:  # type: ignore[no-untyped-def]
    play(mosquitto, _stop_said_on_one_hub_reaches_the_others)


async def _stop_said_on_one_hub_reaches_the_others(hubs: Hubs) -> None:
    home = Home.new()
    a, b = await hubs.add(home, "hub-a"), await hubs.add(home, "hub-b")
    await _until(lambda: len(a.link.online()) == 1 and len(b.link.online()) == 1)
    stopped: list[str] = []
    b.on_stop.append(lambda: stopped.append("b"))
    a.stop_elsewhere()
    await _until(lambda: stopped == ["b"])


def test_a_replayed_announcement_is_said_once(mosquitto) -> None:  # type: ignore[no-untyped-def]
    play(mosquitto, _a_replayed_announcement_is_said_once)


async def _a_replayed_announcement_is_said_once(hubs: Hubs) -> None:
    home = Home.new()
    a, b = await hubs.add(home, "hub-a"), await hubs.add(home, "hub-b")
    await _until(lambda: len(b.link.online()) == 1)
    said: list[str] = []

    async def say(text: str, hub: str, room: str | None) -> None:
        said.append(text)

    b.on_announce.append(say)
    where, payload = sealed(home, Announce(hub="hub-a", text="Once"))
    for _ in range(3):  # what an eavesdropper could capture and send again
        a.link.client.publish(where, payload, qos=1)
    await _until(lambda: said == ["Once"])
    await asyncio.sleep(0.3)
    assert said == ["Once"] and b.link.refused == 2


def test_a_status_is_retained_and_its_will_says_offline() -> None:
    home = Home.new()
    where, payload = sealed(home, Status(hub="a", online=False, room="Hall", t=time.time() - 3600))
    status = unsealed(home, where, payload)  # an old retained status is still the hub's last word
    assert isinstance(status, Status) and status.online is False and status.room == "Hall"
    where, payload = sealed(home, Stop(hub="a"))
    assert isinstance(unsealed(home, where, payload), Stop)
