"""The hub's own lists (shopping, to-do, and any list the user named), by Home Assistant's list
intents and sentences (HassShoppingListAddItem, HassShoppingListCompleteItem, HassListAddItem,
HassListCompleteItem, HassListRemoveItem) and its response wording ("Added milk"), plus ours for
reading a list. The lists live in the synced document, so the app and every hub see one list,
and they work offline: a change is kept at once and reaches the cloud when it can.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from edge_runtime.brain.vocab import LIST_INTENTS, Intent
from sync.document import SyncedDoc, item_key, list_key

SHOPPING = "shopping"
_NAMED = frozenset({Intent.LIST_ADD, Intent.LIST_COMPLETE, Intent.LIST_REMOVE})  # the list is said: {name}
_ITEMS = _NAMED | {Intent.SHOPPING_ADD, Intent.SHOPPING_COMPLETE}  # an item is said
# Only sentences that could be about a list reach hassil: its wildcards would read "add salt to the
# soup" as a list called "soup".
_MAYBE = re.compile(
    r"\blist\b|^(?:i|we) (?:got|bought|picked up|have got) |^(?:check|cross|tick|mark) |^what do (?:i|we) need to"
)
_OURS = {
    "read": "Your {list} has {items}.",
    "empty": "Your {list} is empty.",
    "no_list": "Sorry, I am not aware of any list called {name}",
    "no_item": "Sorry, {item} is not on your {list}",
    "done_already": "{item} is already checked off your {list}.",
}


_MORE = re.compile(r"^(?:and also|and some|oh and|and|also|plus) (?P<item>[\w' ]+?)(?: too| as well| also)?$")
_NOT_ITEMS = frozenset(
    [
        "then",
        "turn",
        "switch",
        "set",
        "open",
        "close",
        "lock",
        "unlock",
        "dim",
        "what",
        "what's",
        "how",
        "who",
        "when",
        "where",
        "why",
        "remind",
        "tell",
        "play",
        "stop",
        "cancel",
        "is",
        "are",
        "can",
        "could",
        "please",
        "start",
        "put",
        "make",
        "read",
        "add",
        "remove",
    ]
)
ADDS = frozenset({Intent.SHOPPING_ADD, Intent.LIST_ADD})


@dataclass
class ListResult:
    intent: Intent
    reply: str
    data: dict[str, Any] = field(default_factory=dict)
    spoken: str = ""  # the list an item was added to, as said: "shopping list"


@dataclass
class _Parse:
    intent: Intent
    list: str  # the list's key
    item: str
    combination: str
    said: int  # words of the template matched (hassil's text_chunks_matched)


class ListSkill:
    """Recognises list sentences with hassil over the synced document's lists, and changes them."""

    def __init__(self, doc: SyncedDoc, language: str = "en") -> None:
        from hassil import Intents
        from hassil.util import merge_dict
        from home_assistant_intents import get_intents

        data = get_intents(language) or get_intents("en")
        assert data is not None
        ours = Path(__file__).with_name(f"lists_{language}.yaml")
        if ours.exists():
            merge_dict(data, yaml.safe_load(ours.read_text()))
        responses = data.get("responses", {}).get("intents", {})
        self.responses: dict[str, dict[str, str]] = {k: v for k, v in responses.items() if k in LIST_INTENTS}
        data["intents"] = {k: v for k, v in data["intents"].items() if k in LIST_INTENTS}
        self.intents = Intents.from_dict(data)
        self.doc, self.language = doc, language
        self._parses("add milk to my shopping list")  # hassil compiles lazily: pay for it at start-up

    def more(self, text: str, spoken: str) -> ListResult | None:
        """ "and eggs" right after an item was added to a list: the same list, one more item."""
        m = _MORE.match(text.lower().strip(" ?.!"))
        words = m.group("item").split() if m else []
        if not words or len(words) > 4 or words[0] in _NOT_ITEMS:
            return None  # "and then turn off the light": a request of its own, not a thing to buy
        return self.handle(f"add {m.group('item') if m else ''} to the {spoken}")

    def handle(self, text: str) -> ListResult | None:
        """The list change or answer `text` asks for; None if it is not about a list."""
        plain = text.lower().strip(" ?.!")
        if not _MAYBE.search(plain):
            return None
        parses = self._parses(plain)
        known = self.doc.list_names()
        on_lists = [p for p in parses if p.list in known]
        if not on_lists:
            named = max((p for p in parses if p.list), key=lambda p: p.said, default=None)
            if named is None or "list" not in plain.split():
                return None
            reply = _OURS["no_list"].format(name=named.list)
            return ListResult(named.intent, reply, {"list": named.list, "problem": "LIST_NOT_FOUND"})
        # "remove milk from the shopping list" deletes it (HassListRemoveItem); it never only checks it off.
        best = max(on_lists, key=lambda p: (p.intent == Intent.LIST_REMOVE, p.said))
        return self._run(best, known)

    def _parses(self, text: str) -> list[_Parse]:
        from hassil import recognize_all
        from hassil.intents import WildcardSlotList

        out = []
        for result in recognize_all(
            text, self.intents, slot_lists={"name": WildcardSlotList("name")}, intent_context={"domain": "todo"}
        ):
            slots = {k: str(v.value).strip() for k, v in result.entities.items()}
            intent = Intent(result.intent.name)
            named = list_key(slots["name"]) if slots.get("name") else ""
            combination = str((result.intent_metadata or {}).get("slot_combination", ""))
            listed = named if intent in _NAMED or slots.get("name") else SHOPPING
            if intent in _ITEMS and not slots.get("item"):
                continue
            out.append(_Parse(intent, listed, slots.get("item", ""), combination, result.text_chunks_matched))
        return out

    def _run(self, parse: _Parse, known: dict[str, str]) -> ListResult | None:
        spoken = f"{known[parse.list].lower()} list"
        data: dict[str, Any] = {"list": parse.list}
        if parse.intent == Intent.LIST_GET:
            items = [i["text"] for i in self.doc.list_items_of(parse.list) if not i.get("done")]
            data["items"] = items
            if not items:
                return ListResult(parse.intent, _OURS["empty"].format(list=spoken), data)
            said = items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"
            return ListResult(parse.intent, _OURS["read"].format(list=spoken, items=said), data)
        item = parse.item
        data["item"] = item
        if parse.intent in (Intent.SHOPPING_ADD, Intent.LIST_ADD):
            data["item_key"] = self.doc.add_list_item(parse.list, item)
            return ListResult(parse.intent, self._said(parse.intent, "item_added", item), data, spoken=spoken)
        key, listed = self._find(parse, known)
        if key is None:
            if parse.combination in ("item_anywhere", "item_if_listed"):
                return None  # "I got a new job", "check if the lights are off": not about a list
            reply = _OURS["no_item"].format(item=item, list=spoken)
            return ListResult(parse.intent, reply, {**data, "problem": "ITEM_NOT_FOUND"})
        data.update(list=listed, item_key=key)
        if parse.intent == Intent.LIST_REMOVE:
            self.doc.remove_list_item(key)
            return ListResult(parse.intent, self._said(parse.intent, "item_deleted", item), data)
        self.doc.check_list_item(key)
        return ListResult(parse.intent, self._said(parse.intent, "item_completed", item), data)

    def _find(self, parse: _Parse, known: dict[str, str]) -> tuple[str | None, str]:
        """The item's key and list: on the list said, or, for "check off milk", on whichever list
        has it not yet done (the shopping list first)."""
        wanted = parse.list
        if parse.combination in ("item_anywhere", "item_if_listed"):
            lists = sorted(known, key=lambda k: k != SHOPPING)
        else:
            lists = [wanted]
        for name in lists:
            key = item_key(name, parse.item)
            item = self.doc.list_items.get(key)
            if item is not None and (parse.intent == Intent.LIST_REMOVE or not item.get("done")):
                return key, name
        return None, wanted

    def _said(self, intent: Intent, response: str, item: str) -> str:
        """Home Assistant's own response ("Added {{ slots.item }}"), with the item as said."""
        template = self.responses.get(intent, {}).get(response, "Done")
        return re.sub(r"\{\{\s*slots\.item\s*\}\}", item, template)
