"""How far a request reaches, by Home Assistant's words: the hub's room, or the whole home.

"all the fans" said to a hub in a room is that room's, unless the words say everywhere; "close all the
blinds" and "lock all the doors" are the home's; "lock the door" means one device, so several are
asked about.
"""

from __future__ import annotations

import re

from edge_runtime.brain.intents import IntentMatch

# Home Assistant's <everywhere>: without it, "all the fans" said to a hub in a room means that room's.
_EVERYWHERE = re.compile(
    r"\b(?:everywhere|all over|home|house|apartment|flat|(?:every|each) (?:single |and every )?(?:room|area|floor)|"
    r"all (?:of )?(?:the |my |our )?(?:rooms|areas|floors))\b",
    re.IGNORECASE,
)
# Home Assistant's <here>: the hub's room said, not only implied.
_HERE = re.compile(r"\b(?:here|(?:this|the|my|our) (?:room|area|space))\b", re.IGNORECASE)
# Home-wide by the words, never narrowed to the hub's room: "close all the blinds", "lock all the doors".
EVERY = ("device_class_all", "domain_every")
# One device meant, so several are asked about: "lock the door" (templates_en.yaml).
SINGLE = frozenset({"lock_one", "alarm_one"})
# Cover classes a home has one of: "close the garage" said anywhere is the garage door when there is one.
ONE_PER_HOME = frozenset({"garage", "gate"})


def whole_home(match: IntentMatch) -> bool:
    """The sentence may reach past the hub's room (SINGLE: the hub's room preferred, or asked)."""
    wide = (*EVERY, *SINGLE, "domain_state", "device_class_state")
    return match.combination.endswith("_all") or match.combination in wide


def room_unless_everywhere(match: IntentMatch) -> bool:
    """ "all the fans" said in a room is that room's (HA's in-here sentences take <all>); its cover
    sentences in here take no <all>, so "close all the blinds" is the home's, as "lock all the doors" is."""
    in_here = match.combination.endswith("_all") and match.combination not in EVERY
    return in_here and not _EVERYWHERE.search(match.heard_as)


def says_here(match: IntentMatch) -> bool:
    return bool(_HERE.search(match.heard_as))


def one_device_meant(match: IntentMatch) -> bool:
    return match.combination in SINGLE
