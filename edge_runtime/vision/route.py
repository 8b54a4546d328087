"""The vision skill as one of the brain's routes, tried right after the built-in skills."""

from __future__ import annotations

from typing import TYPE_CHECKING

from edge_runtime.brain.result import BrainResult
from edge_runtime.brain.routes import ROUTES, RouteFn, Turn, builtin
from edge_runtime.brain.vocab import Route
from edge_runtime.vision.skill import VisionSkill

if TYPE_CHECKING:
    from edge_runtime.brain.router import Brain


def vision_route(skill: VisionSkill) -> RouteFn:
    async def vision(brain: Brain, turn: Turn) -> BrainResult | None:
        """ "is anyone at the front door?", "what does this say?": the cameras, on the hub."""
        if turn.override or brain.language != "en" or (answer := await skill.handle(turn.text)) is None:
            return None
        result = BrainResult(Route.LOCAL_INTENT, answer.intent, answer.reply, signals=turn.signals.fired())
        result.data = answer.data
        return await brain._said(result, turn.speak)

    return vision


def routes_with_vision(skill: VisionSkill, routes: tuple[RouteFn, ...] = ROUTES) -> tuple[RouteFn, ...]:
    at = routes.index(builtin) + 1
    return (*routes[:at], vision_route(skill), *routes[at:])
