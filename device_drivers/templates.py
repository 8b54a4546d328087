"""Home Assistant's MQTT templates (`value_template`, `bri_val_tpl`, `rgb_command_template`...), evaluated
by Jinja's sandbox as Home Assistant evaluates them.

Real firmware writes more than `{{ value_json.x }}`: Tasmota splits strings, ESPHome-style configs use
`| int`, `| default`, `is defined` and `{% if %}`. A config is untrusted, so templates run sandboxed, bounded
in size and output, and any failure is a coded InvalidPayload, never an exception out of the hub.
"""

from __future__ import annotations

import json
import math
from functools import lru_cache
from typing import Any

from jinja2 import TemplateError, Undefined, UndefinedError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from device_drivers.model import InvalidPayload

MAX_TEMPLATE = 2_000
MAX_OUTPUT = 1_000


class _Env(ImmutableSandboxedEnvironment):
    """No attribute of ours is reachable and nothing can be mutated; ranges stay small."""

    def call(self, context: Any, obj: Any, *args: Any, **kwargs: Any) -> Any:
        if getattr(obj, "__name__", "") == "range" and any(isinstance(a, int) and abs(a) > 1000 for a in args):
            raise TemplateError("range too large")
        return super().call(context, obj, *args, **kwargs)


def _to_int(value: Any, default: Any = 0, base: int = 10) -> Any:
    """Home Assistant's `int`: floats and numeric strings truncate; what is no number gives the default."""
    try:
        if isinstance(value, str) and base != 10:
            return int(value, base)
        return int(float(value))
    except (TypeError, ValueError, OverflowError):
        return default


def _to_float(value: Any, default: Any = 0.0) -> Any:
    try:
        return float(value)
    except (TypeError, ValueError, OverflowError):
        return default


def _round(value: Any, precision: int = 0, method: str = "common") -> Any:
    number = _to_float(value, None)
    if number is None:
        return value
    scale = 10 ** int(precision)
    if method in ("floor", "ceil"):
        return (math.floor if method == "floor" else math.ceil)(number * scale) / scale
    return round(number, int(precision)) if precision else round(number)


def _env() -> _Env:
    env = _Env(autoescape=False, undefined=Undefined)
    env.filters.update(
        {"int": _to_int, "float": _to_float, "round": _round, "to_json": json.dumps, "from_json": json.loads}
    )
    env.globals.update({"int": _to_int, "float": _to_float})
    return env


ENV = _env()


@lru_cache(maxsize=1024)
def compile_template(source: str) -> Any:
    """A compiled template, or InvalidPayload (coded) for one that is too long or does not parse."""
    if not isinstance(source, str) or len(source) > MAX_TEMPLATE:
        raise InvalidPayload(
            f"a template must be text of at most {MAX_TEMPLATE} characters", code="DEVICE_BAD_TEMPLATE"
        )
    try:
        return ENV.from_string(source)
    except (TemplateError, RecursionError, MemoryError) as err:
        raise InvalidPayload(f"template does not parse: {err}", code="DEVICE_BAD_TEMPLATE") from err


def render(source: str, **variables: Any) -> str:
    """The template's text, stripped; an empty result means "this message says nothing about it"."""
    template = compile_template(source)
    try:
        out = template.render(**variables)
    except UndefinedError:  # `value_json.Color.split(..)` on a message without Color: it says nothing of it
        return ""
    except Exception as err:
        raise InvalidPayload(
            f"template {source[:60]!r} failed: {type(err).__name__}: {str(err)[:80]}", code="DEVICE_TEMPLATE_FAILED"
        ) from err
    return out.strip()[:MAX_OUTPUT]


def render_value(source: str, payload: bytes) -> str:
    """A `*_value_template` applied to one message: `value` is its text, `value_json` its JSON if it has any."""
    try:
        value = payload.decode()
    except UnicodeDecodeError as err:
        raise InvalidPayload(f"not UTF-8: {payload[:80]!r}") from err
    try:
        value_json: Any = json.loads(value)
    except (ValueError, RecursionError):
        value_json = Undefined(name="value_json")
    return render(source, value=value, value_json=value_json)
