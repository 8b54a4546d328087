"""Home Assistant's `HassBroadcast`: "broadcast that dinner is ready", "tell everyone ...", and to one
room, "announce in the kids' room: time for bed". Spoken on the home's other hubs (edge_runtime/peers).

A room is taken only when it is a room a hub of the home stands in; otherwise the words are the message.
Asked for a room no hub is in, it says so and sends nothing: a message spoken in the wrong room is worse
than none."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Protocol

from edge_runtime.brain.replies import say
from edge_runtime.brain.result import BrainResult
from edge_runtime.brain.vocab import Route

if TYPE_CHECKING:
    from edge_runtime.brain.router import Brain
    from edge_runtime.brain.routes import Turn

INTENT = "HassBroadcast"


class Announcer(Protocol):
    def rooms(self) -> dict[str, list[str]]: ...

    def announce(self, text: str, rooms: list[str] | None = None) -> list[str]: ...

    def stop_elsewhere(self) -> None: ...


_EN_ALL = re.compile(
    r"^(?:(?:broadcast|announce|make an announcement)"
    r"(?: (?:to )?(?:everywhere|everyone|everybody|all rooms|the whole house))?"
    r"|(?:tell|let) (?:everyone|everybody|the whole house|all rooms)(?: know)?)"
    r"(?: that)?[\s:,]+(?P<message>.+)$",
    re.IGNORECASE,
)
_EN_ROOM = re.compile(r"^(?:broadcast|announce|say) (?:in|to) (?:the )?(?P<rest>.+)$", re.IGNORECASE)
_EVERYWHERE = re.compile(r"^(?:everywhere|everyone|everybody|all rooms|the whole house)\b")
_DE_ALL = re.compile(
    r"^(?:(?:sag(?:e)?|verkünde|gib|gebe) (?:überall|allen|in allen (?:räumen|zimmern)|im ganzen haus)"
    r"(?: bescheid| bekannt| durch)?|durchsage|lass alle wissen)(?: dass)?[\s:,]+(?P<message>.+)$",
    re.IGNORECASE,
)


def _key(text: str) -> str:
    return " ".join(text.casefold().replace("'", "").replace("’", "").split())


def parse(text: str, language: str, rooms: list[str]) -> tuple[str, list[str] | None] | None:
    """(message, rooms or None for everywhere), or None when this is no broadcast."""
    text = text.strip().rstrip(".!")
    if language == "de":
        found = _DE_ALL.match(text)
        return (found["message"], None) if found else None
    if (found := _EN_ROOM.match(text)) is not None:
        rest = _key(found["rest"])
        for room in sorted(rooms, key=len, reverse=True):
            for name in (_key(room) + " room", _key(room)):
                if rest.startswith(name + " ") or rest.startswith(name + ":") or rest.startswith(name + ","):
                    message = _strip_lead(_tail(found["rest"], name))
                    return (message, [room]) if message else None
        if not _EVERYWHERE.match(rest):
            return ("", ["?" + found["rest"].split(":")[0].split(",")[0]])  # a room no hub is in
    found = _EN_ALL.match(text)
    return (_strip_lead(found["message"]), None) if found else None


def _tail(original: str, spoken_room: str) -> str:
    """What follows the room's name in the original words (their case and punctuation kept)."""
    words = len(spoken_room.split())
    return " ".join(original.split()[words:])


def _strip_lead(message: str) -> str:
    message = re.sub(r"^(?:that|saying)\s+", "", message.strip(" :,"), flags=re.IGNORECASE)
    return message[:1].upper() + message[1:] if message else ""


async def broadcast(brain: Brain, turn: Turn) -> BrainResult | None:
    peers = brain.peers
    if peers is None or turn.override:
        return None
    known = peers.rooms()
    found = parse(turn.text, brain.language, list(known))
    if found is None:
        return None
    message, rooms = found
    if rooms and rooms[0].startswith("?"):
        reply = say(brain.language, "announce_no_room", room=rooms[0][1:])
        return await brain._said(BrainResult(Route.BUILTIN, INTENT, reply, signals=["unknown-room"]), turn.speak)
    reached = peers.announce(message, rooms)
    key = "announced" if reached else "announce_nobody"
    result = BrainResult(Route.BUILTIN, INTENT, say(brain.language, key), data={"message": message, "hubs": reached})
    if rooms:
        result.data["rooms"] = rooms
    return await brain._said(result, turn.speak)
