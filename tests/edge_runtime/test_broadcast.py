"""Home Assistant's HassBroadcast sentences (and ours) to the home's other hubs, through the brain."""

from __future__ import annotations

import asyncio

import pytest

from edge_runtime.brain.broadcast import parse
from edge_runtime.brain.factory import brain_from
from edge_runtime.clock import SystemClock
from edge_runtime.settings import EdgeSettings
from edge_runtime.skills.builtin import BuiltinSkills
from edge_runtime.skills.timers import TimerManager

ROOMS = ["Kitchen", "Kids' Room", "Living Room"]


@pytest.mark.parametrize(
    ("said", "message", "rooms"),
    [
        # home-assistant-intents en: "(broadcast|announce) [everywhere] [that] {message}"
        ("broadcast that dinner is ready", "Dinner is ready", None),
        ("Announce everywhere: the car is here.", "The car is here", None),
        ("Tell everyone dinner is ready.", "Dinner is ready", None),
        ("let everybody know that we leave in five minutes", "We leave in five minutes", None),
        ("Announce in the kids' room: time for bed.", "Time for bed", ["Kids' Room"]),
        ("Announce in the kids room, time for bed.", "Time for bed", ["Kids' Room"]),
        ("broadcast to the living room that the film starts", "The film starts", ["Living Room"]),
        ("announce in the kitchen lunch is ready", "Lunch is ready", ["Kitchen"]),
    ],
)
def test_broadcast_sentences(said: str, message: str, rooms: list[str] | None) -> None:
    assert parse(said, "en", ROOMS) == (message, rooms)


@pytest.mark.parametrize(
    "said", ["tell me the time", "turn on the kitchen light", "announce", "what did everyone say", "broadcast"]
)
def test_other_sentences_are_no_broadcast(said: str) -> None:
    assert parse(said, "en", ROOMS) is None


def test_german_broadcast() -> None:
    assert parse("Sag allen Bescheid, das Essen ist fertig", "de", []) == ("das Essen ist fertig", None)
    assert parse("Mach das Licht an", "de", []) is None


class Home:
    """The brain's view of the other hubs (a unit test of the route: the peers have their own tests)."""

    def __init__(self, rooms: dict[str, list[str]]) -> None:
        self._rooms = rooms
        self.sent: list[tuple[str, list[str] | None]] = []
        self.stops = 0

    def rooms(self) -> dict[str, list[str]]:
        return self._rooms

    def announce(self, text: str, rooms: list[str] | None = None) -> list[str]:
        self.sent.append((text, rooms))
        return [h for room, hubs in self._rooms.items() if rooms is None or room in rooms for h in hubs if h != "me"]

    def stop_elsewhere(self) -> None:
        self.stops += 1


def _brain(home: Home):  # type: ignore[no-untyped-def]
    clock = SystemClock("UTC")
    brain = brain_from(
        EdgeSettings(llm_enabled=False), BuiltinSkills(clock, TimerManager(clock, _ring)), None, None, None
    )
    brain.peers = home
    return brain


async def _ring(timer: object, repeat: int) -> None:
    return None


def test_the_brain_sends_a_broadcast_and_declines_a_room_no_hub_is_in() -> None:
    home = Home({"Kitchen": ["me"], "Kids' Room": ["hub-b"], "Office": ["hub-c"]})
    brain = _brain(home)
    done = asyncio.run(brain.handle("Tell everyone dinner is ready."))
    assert (done.intent, done.reply, home.sent) == ("HassBroadcast", "Done", [("Dinner is ready", None)])
    to_kids = asyncio.run(brain.handle("Announce in the kids' room: time for bed."))
    assert to_kids.reply == "Done" and home.sent[-1] == ("Time for bed", ["Kids' Room"])
    attic = asyncio.run(brain.handle("Announce in the attic: hello."))
    assert attic.intent == "HassBroadcast" and "no hub in the attic" in attic.reply and len(home.sent) == 2
    alone = _brain(Home({"Kitchen": ["me"]}))
    assert (
        asyncio.run(alone.handle("broadcast that dinner is ready")).reply
        == "There's no other hub in this home to hear that."
    )


def test_stop_with_nothing_ringing_here_is_passed_to_the_other_hubs() -> None:
    home = Home({"Kitchen": ["me"]})
    brain = _brain(home)
    assert asyncio.run(brain.handle("stop")).intent == "stop" and home.stops == 1
