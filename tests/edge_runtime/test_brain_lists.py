"""The hub's own lists (issue #16, part 3): Home Assistant's list intents and replies over the synced
document, offline, and through `POST /v1/ask` of a running LAN API."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx

from device_drivers.mosquitto import Mosquitto
from edge_runtime.brain.context import Conversation
from edge_runtime.brain.memory import LocalMemory
from edge_runtime.brain.router import Brain
from edge_runtime.clock import SystemClock
from edge_runtime.skills.builtin import BuiltinSkills
from edge_runtime.skills.lists import ListSkill
from edge_runtime.skills.timers import TimerManager
from sync import Replica
from sync.document import SyncedDoc
from tests.edge_runtime.lan_hub import bearer, lan_hub


def offline_brain(doc: SyncedDoc) -> Brain:
    """No devices, no LLM, no cloud: what a hub has with the internet down."""

    async def ring(timer: object, repeat: int) -> None:
        return None

    clock = SystemClock(None)
    return Brain(BuiltinSkills(clock, TimerManager(clock, ring)), memory=LocalMemory(doc))


def turns(brain: Brain, *texts: str) -> list[tuple[str, str, str, str]]:
    async def run() -> list[tuple[str, str, str, str]]:
        out = []
        for text in texts:
            result = await brain.handle(text, Conversation())
            out.append((result.route, result.intent, result.reply, str(result.data.get("problem", ""))))
        return out

    return asyncio.run(run())


def test_add_read_check_off_and_remove_in_home_assistants_words(tmp_path: Path) -> None:
    replica = Replica.open(tmp_path / "sync.db")
    brain = offline_brain(replica.doc)
    said = turns(
        brain,
        "add milk to my shopping list",
        "put eggs on the list",
        "what's on my shopping list?",
        "check off milk",
        "what's on my shopping list",
        "I got the eggs",
        "add bread to the shopping list",
        "remove bread from the shopping list",
        "what do I need to buy",
    )
    assert said == [
        ("local-intent", "HassShoppingListAddItem", "Added milk", ""),
        ("local-intent", "HassShoppingListAddItem", "Added eggs", ""),
        ("local-intent", "CompanionListGetItems", "Your shopping list has milk and eggs.", ""),
        ("local-intent", "HassShoppingListCompleteItem", "Checked off milk", ""),
        ("local-intent", "CompanionListGetItems", "Your shopping list has eggs.", ""),
        ("local-intent", "HassShoppingListCompleteItem", "Checked off the eggs", ""),
        ("local-intent", "HassShoppingListAddItem", "Added bread", ""),
        ("local-intent", "HassListRemoveItem", "Removed bread", ""),
        ("local-intent", "CompanionListGetItems", "Your shopping list is empty.", ""),
    ]
    items = replica.doc.to_py()["list_items"]
    assert {k: v["done"] for k, v in items.items()} == {"shopping\tmilk": True, "shopping\teggs": True}
    # Adding milk again puts the checked-off item back: one milk, not two.
    turns(brain, "add milk to my shopping list")
    assert [(i["text"], i["done"]) for i in replica.doc.list_items_of("shopping")] == [("milk", False), ("eggs", True)]
    # Kept durably at once, offline: waiting in the outbox for the cloud.
    assert replica.store.outbox(replica.name)


def test_named_lists_and_an_unknown_list(tmp_path: Path) -> None:
    doc = SyncedDoc()
    brain = offline_brain(doc)
    unknown, missing = turns(brain, "add call mum to my chores list", "remove bread from my shopping list")
    assert unknown == (
        "local-intent",
        "HassListAddItem",
        "Sorry, I am not aware of any list called chores",
        "LIST_NOT_FOUND",
    )
    assert missing[2:] == ("Sorry, bread is not on your shopping list", "ITEM_NOT_FOUND")
    assert doc.to_py()["list_items"] == {}  # nothing written for either
    doc.name_list("Chores")  # the app made the list
    said = turns(
        brain,
        "add call mum to my chores list",
        "add take out the bins to the chores list",
        "what's on my chores list",
        "check call mum off my chores list",
        "add pay rent to my to-do list",
        "what's on my todo list",
    )
    assert [s[2] for s in said] == [
        "Added call mum",
        "Added take out the bins",
        "Your chores list has call mum and take out the bins.",
        "Checked off call mum",
        "Added pay rent",
        "Your to-do list has pay rent.",
    ]
    assert [s[1] for s in said[:4]] == [
        "HassListAddItem",
        "HassListAddItem",
        "CompanionListGetItems",
        "HassListCompleteItem",
    ]


def test_sentences_that_are_not_about_a_list_go_on(tmp_path: Path) -> None:
    brain = offline_brain(SyncedDoc())
    said = turns(
        brain, "add salt to the soup", "I got a new job", "check if the lights are off", "add 5 minutes to my timer"
    )
    assert [s[0] for s in said] == ["cloud", "cloud", "cloud", "builtin"]  # here the cloud says "not linked"


def test_list_skill_changes_only_the_document(tmp_path: Path) -> None:
    doc = SyncedDoc()
    skill = ListSkill(doc)
    assert skill.handle("turn on the kitchen light") is None
    added = skill.handle("add milk to my shopping list")
    assert added is not None and added.data == {"list": "shopping", "item": "milk", "item_key": "shopping\tmilk"}


def test_lists_through_the_lan_api(mosquitto: Mosquitto, tmp_path: Path) -> None:
    doc = SyncedDoc()

    async def scenario() -> list[dict[str, object]]:
        async with (
            lan_hub(mosquitto.url, tmp_path, home={"doc": doc}) as hub,
            httpx.AsyncClient(base_url=hub.url, timeout=30) as http,
        ):
            token = bearer((await hub.pair(http))["token"])
            out = []
            for text in (
                "add milk to my shopping list",
                "what's on my shopping list",
                "I got the milk",
                "turn on the kitchen light",
            ):
                answer = await http.post("/v1/ask", json={"text": text}, headers=token)
                assert answer.status_code == 200, answer.text
                out.append(answer.json())
            return out

    added, read, done, light = asyncio.run(scenario())
    assert (added["route"], added["intent"], added["reply"], added["actions"]) == (
        "local-intent",
        "HassShoppingListAddItem",
        "Added milk",
        [],
    )
    assert read["reply"] == "Your shopping list has milk." and read["data"]["items"] == ["milk"]
    assert done["reply"] == "Checked off the milk" and doc.list_items_of("shopping")[0]["done"] is True
    assert light["route"] == "local-intent" and light["actions"][0]["confirmed"] is True  # devices still work
