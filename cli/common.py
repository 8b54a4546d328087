"""What every command shares: settings read once, the registry, quiet model loading."""

from __future__ import annotations

import contextlib
import io
import json
import sys
from typing import Any

from pydantic import ValidationError

from edge_runtime.settings import EdgeSettings
from models.errors import CompanionError
from models.registry import Registry, load_manifest, load_overrides

ENV_PREFIX = "COMPANION_"


class Context:
    """Built once per invocation in the root callback and handed to each command."""

    def __init__(self, settings: EdgeSettings) -> None:
        self.settings = settings
        self._registry: Registry | None = None

    @property
    def registry(self) -> Registry:
        if self._registry is None:
            self._registry = Registry(load_manifest(), load_overrides(self.settings.model_overrides_file))
        return self._registry


@contextlib.contextmanager
def quiet_stdout():
    """Some engines print while loading; stdout is reserved for results (JSON, raw PCM)."""
    with contextlib.redirect_stdout(io.StringIO()):
        yield


def load_engines(ctx: Context, *, warm: bool = True):
    from edge_runtime.engines import Engines

    with quiet_stdout():
        engines = Engines.load(ctx.settings, ctx.registry)
        if warm:
            engines.warm_up()
    return engines


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, default=str) + "\n")
    sys.stdout.flush()


def settings_error(exc: ValidationError, provisioned: str) -> CompanionError:
    """Names each bad setting as a user sets it (COMPANION_API_PORT, not api_port), without its value:
    a value may be a secret."""
    problems = []
    for error in exc.errors():
        field = str(error.get("loc", ("?",))[0])
        problems.append(f"{ENV_PREFIX}{field.upper()}: {error.get('msg', 'invalid')}")
    names = ", ".join(dict.fromkeys(p.split(":")[0] for p in problems))
    return CompanionError(
        "invalid settings: " + "; ".join(problems),
        code="CONFIG_INVALID",
        hint=f"fix or unset {names} in the environment (or the same key, lower-case, in {provisioned})",
    )
