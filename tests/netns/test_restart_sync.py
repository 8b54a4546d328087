"""Issue #23, faults on the hub: `kill -9` of the hub in the middle of a sync session. With the link
cut, the user adds 40 things to the shopping list and 5 memories; the link comes back slow, the hub
pushes its backlog, and it is killed the moment the cloud has stored the backlog: the
acknowledgement is still on its way back (so the hub's rows are unconfirmed: the window for
doubling), and three items the hub had said "Added" to are still in flight (dropped with the
hub's connection: the window for losing). After the restart the hub lists every item once, the
cloud ends with exactly the same document, and what is said after the restart reaches it too.
(Runs after test_restart.py: it replaces the package's hub.)"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections import Counter
from contextlib import closing, suppress

import httpx

from sync import protocol
from sync.document import SyncedDoc
from sync.protocol import Kind
from tests.cloud.server import bearer
from tests.netns.home import Home, wait_for

TO_BUY = (
    "apples,bananas,carrots,oat milk,eggs,butter,bread,cheddar,yogurt,spinach,tomatoes,onions,garlic,potatoes,"
    "rice,pasta,olive oil,flour,sugar,coffee,tea bags,honey,lemons,limes,avocados,cucumbers,peppers,mushrooms,"
    "chicken thighs,salmon,tofu,lentils,chickpeas,oats,almonds,walnuts,raisins,crackers,cereal,orange juice"
)
BACKLOG = TO_BUY.split(",")  # 40 things to buy, said while the link is cut
MEMORIES = [  # as the hub keeps them, read case-blind: "The plumber comes on tuesday"
    "the plumber comes on tuesday",
    "my sister's birthday is in may",
    "the spare key is under the blue pot",
    "the car needs new tyres",
    "the bins go out on thursday",
]
IN_FLIGHT = ["blueberries", "paprika", "basil"]  # said while the backlog's acknowledgement is on its way
AFTER = ["cinnamon", "vanilla", "ginger"]  # said after the restart
AFTER_MEMORY = "the dentist moved to friday"
DELAY_S = 2.5  # the slow link, each way: the acknowledgement reaches the hub this long after the store


def hub_replica(home: Home) -> tuple[SyncedDoc, int]:
    """The hub's replica as its SQLite file holds it (replayed as the hub replays it at start), and
    how many of its local rows the cloud has not acknowledged."""
    path = home.settings.data_dir / "sync.sqlite3"
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)) as db:
        rows = [data for (data,) in db.execute("SELECT data FROM updates WHERE doc = 'main' ORDER BY id")]
        (pending,) = db.execute("SELECT COUNT(*) FROM updates WHERE doc = 'main' AND local = 1 AND confirmed = 0")
    doc = SyncedDoc()
    for data in rows:
        doc.apply(data)
    return doc, int(pending[0])


def sync_log(home: Home, since: float) -> list[str]:
    """The hub's sync client's own log since `since` (wall clock): "+1.2 s connected", oldest first."""
    path = home.settings.data_dir / "sync.sqlite3"
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)) as db:
        rows = db.execute("SELECT t, event FROM log WHERE doc = 'main' AND t >= ? ORDER BY id", (since,))
        return [f"{t - since:+.1f} s {event}" for t, event in rows]


def synced(home: Home) -> bool:
    """Connected (the sync client's last word is "connected"), with nothing waiting to go up."""
    with suppress(sqlite3.Error):
        log = sync_log(home, 0)
        return hub_replica(home)[1] == 0 and bool(log) and log[-1].endswith(" connected")
    return False


def watch_outbox(home: Home, drained: list[float], until: float) -> None:
    while time.monotonic() < until:
        with suppress(sqlite3.Error, FileNotFoundError):
            if hub_replica(home)[1] == 0:
                drained.append(time.monotonic())
                return
        time.sleep(0.05)


def cloud_doc(home: Home) -> SyncedDoc:
    """The user's document as the cloud's sync service holds it: asked directly (not via the proxy)
    with a sync step 1 from an empty replica, so the step 2 that comes back is the whole document."""
    body = protocol.step1(SyncedDoc().state_vector())
    with httpx.Client(base_url=home.cloud.url, headers=bearer(home.user["access_token"]), timeout=10) as http:
        response = http.post("/v1/sync/main", content=body, headers={"Content-Type": "application/octet-stream"})
    assert response.status_code == 200, response.text
    doc = SyncedDoc()
    for data in protocol.split(response.content):
        message = protocol.decode(data)
        if message.kind is Kind.STEP2:
            doc.apply(message.payload)
    return doc


def shopping(doc: SyncedDoc) -> list[str]:
    return [str(i["text"]) for i in doc.list_items_of("shopping") if not i.get("done")]


def memories(doc: SyncedDoc) -> list[str]:
    return [str(m["text"]).lower() for m in doc.to_py()["memory"].values()]


def has_all(doc: SyncedDoc, items: list[str], remembered: list[str]) -> bool:
    return set(items) <= set(shopping(doc)) and set(remembered) <= set(memories(doc))


def once(values: list[str]) -> bool:
    return all(n == 1 for n in Counter(values).values())


def add(home: Home, item: str) -> None:
    answer, _ = home.ask(f"add {item} to my shopping list")
    assert item in answer["reply"].lower(), answer


def remember(home: Home, text: str) -> None:
    answer, _ = home.ask(f"remember that {text}")
    assert answer["route"] == "local-memory", answer


def test_kill_9_mid_sync_loses_nothing_doubles_nothing_and_converges(home: Home) -> None:
    # The hub is linked and in step before the cut: nothing pending, the cloud has what the hub has.
    wait_for(lambda: synced(home), 90, "the hub is connected to the sync service, its outbox empty", home)
    before = set(shopping(hub_replica(home)[0]))
    assert not before & {*BACKLOG, *IN_FLIGHT, *AFTER}, before
    home.ns.cut()
    try:
        for item in BACKLOG:
            add(home, item)
        for text in MEMORIES:
            remember(home, text)
        replica, pending = hub_replica(home)
        assert pending >= len(BACKLOG) + len(MEMORIES), pending  # one row per change, none acknowledged
        assert not has_all(cloud_doc(home), BACKLOG[:1], [])
        # The link comes back slow: every chunk takes DELAY_S each way, so the cloud's ACK of the
        # backlog reaches the hub DELAY_S after the cloud has stored it.
        home.proxy.slow(DELAY_S)
    finally:
        home.ns.restore()
    restored_at, restored_wall = time.monotonic(), time.time()
    try:
        # The hub's connection does not outlive the outage (as when the router's NAT state is gone):
        # the backlog goes up in the opening of a new session, as one update.
        home.proxy.reset()
        wait_for(lambda: has_all(cloud_doc(home), BACKLOG, MEMORIES), 120, "the backlog reaches the cloud", home)
        stored_at = time.monotonic()
        for item in IN_FLIGHT:  # kept on the hub and answered "Added", on the wire to the cloud
            add(home, item)
        home.kill_hub()
        home.proxy.reset()  # what the link still held for the cloud, or for the hub, dies with the hub
        killed_at = time.monotonic()
    finally:
        home.proxy.normal()
    assert killed_at - stored_at < DELAY_S - 0.5, f"the kill came {killed_at - stored_at:.1f} s after the store"
    # It was mid-session: the cloud had the backlog but none of the items in flight, and the hub had
    # not heard the backlog's acknowledgement (every row the cut made is still unconfirmed).
    at_kill = cloud_doc(home)
    replica, pending = hub_replica(home)
    assert has_all(at_kill, BACKLOG, MEMORIES) and not set(IN_FLIGHT) & set(shopping(at_kill)), shopping(at_kill)
    assert pending >= len(BACKLOG) + len(MEMORIES) + len(IN_FLIGHT), pending
    events = sync_log(home, restored_wall)
    kinds = [e.rsplit(" ", 1)[-1] for e in events]  # the old connection dropped, the session the kill cut short
    assert "disconnected" in kinds and kinds[-1] == "connected", events
    # It opened soon: a link that worked retries after 0.5 s, whatever an earlier outage (test_restart's)
    # grew the wait to (it waited up to 36 s before), plus the handshake over the slow link.
    assert float(events[-1].split()[0]) < 2 * DELAY_S + 5, events
    assert has_all(replica, [*BACKLOG, *IN_FLIGHT], MEMORIES)
    print(
        f"\nunacknowledged rows at the kill: {pending}; the cloud at the kill: {len(shopping(at_kill))} items "
        f"of {len(shopping(replica))}; the backlog stored {stored_at - restored_at:.1f} s after the restore, "
        f"the kill {killed_at - stored_at:.1f} s after that; the sync log from the restore: {events}"
    )

    drained: list[float] = []  # when the restarted hub's outbox was first empty (it may drain before `up`)
    watcher = threading.Thread(target=watch_outbox, args=(home, drained, killed_at + 300), daemon=True)
    watcher.start()
    home.start_hub()
    up_at = time.monotonic()
    expected = sorted(before | {*BACKLOG, *IN_FLIGHT})
    # The hub lists every item once, over its LAN API as the app asks.
    listed, _ = home.ask("what's on my shopping list")
    assert sorted(listed["data"]["items"]) == expected and once(listed["data"]["items"]), listed["data"]
    # The hub's outbox drains, and the cloud then holds exactly the hub's document.
    watcher.join(300)
    assert drained, "the hub's outbox did not drain after the restart"
    replica, cloud = hub_replica(home)[0], cloud_doc(home)
    assert cloud.to_py() == replica.to_py()
    assert sorted(shopping(cloud)) == expected and once(shopping(cloud)), shopping(cloud)
    assert once(memories(cloud)) and set(MEMORIES) <= set(memories(cloud)), memories(cloud)
    print(
        f"the hub up {up_at - killed_at:.1f} s after the kill; its outbox drained "
        f"{drained[0] - killed_at:.1f} s after the kill"
    )

    # What is said after the restart reaches the cloud too, once.
    for item in AFTER:
        add(home, item)
    remember(home, AFTER_MEMORY)
    wait_for(lambda: has_all(cloud_doc(home), AFTER, [AFTER_MEMORY]), 60, "the new changes reach the cloud", home)
    wait_for(lambda: hub_replica(home)[1] == 0, 60, "the hub hears their acknowledgement", home)
    replica, cloud = hub_replica(home)[0], cloud_doc(home)
    assert cloud.to_py() == replica.to_py()
    assert sorted(shopping(cloud)) == sorted([*expected, *AFTER]) and once(shopping(cloud)), shopping(cloud)
    assert once(memories(cloud)) and set(memories(cloud)) >= {*MEMORIES, AFTER_MEMORY}, memories(cloud)
