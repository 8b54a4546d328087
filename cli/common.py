"""What every command shares: settings read once, the registry, quiet model loading."""

from __future__ import annotations

import contextlib
import io
import json
import sys
from typing import Any

from edge_runtime.settings import EdgeSettings
from models.registry import Registry, load_manifest, load_overrides


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
