"""Colour as each convention speaks it: the hub keeps an RGB triple; devices take and report CIE xy
(Zigbee), hue/saturation, or RGB. Brightness is its own attribute, so colours here are at full value.

A bulb reports the colour it reached, not the one it was asked for (its gamut clips saturation, its
firmware rounds xy to 1/65535), so two colours are "the same" when their hue agrees and neither is white
where the other is not: `same_colour` is that comparison.
"""

from __future__ import annotations

import colorsys
import math
from collections.abc import Sequence

HUE_TOLERANCE = 20.0  # degrees: a gamut clip or firmware rounding moves hue a few degrees, never 20
WHITE_SATURATION = 0.12  # below this a colour reads as white, whatever its hue


def _linear(channel: float) -> float:
    return channel / 12.92 if channel <= 0.04045 else ((channel + 0.055) / 1.055) ** 2.4


def _gamma(channel: float) -> float:
    return 12.92 * channel if channel <= 0.0031308 else 1.055 * channel ** (1 / 2.4) - 0.055


def rgb_to_xy(rgb: Sequence[int]) -> tuple[float, float]:
    """sRGB (0-255) to CIE 1931 xy, as Home Assistant and Zigbee2MQTT convert it."""
    r, g, b = (_linear(c / 255) for c in rgb)
    x = r * 0.4124 + g * 0.3576 + b * 0.1805
    y = r * 0.2126 + g * 0.7152 + b * 0.0722
    z = r * 0.0193 + g * 0.1192 + b * 0.9505
    total = x + y + z
    if total == 0:
        return 0.3127, 0.329  # black has no chromaticity: the white point
    return round(x / total, 4), round(y / total, 4)


def xy_to_rgb(x: float, y: float) -> list[int]:
    """CIE xy to sRGB at full value (the brightest channel 255)."""
    if not (math.isfinite(x) and math.isfinite(y)) or y <= 0:
        raise ValueError(f"not a chromaticity: {x}, {y}")
    big_y = 1.0
    big_x, big_z = (big_y / y) * x, (big_y / y) * (1 - x - y)
    r = big_x * 3.2406 - big_y * 1.5372 - big_z * 0.4986
    g = -big_x * 0.9689 + big_y * 1.8758 + big_z * 0.0415
    b = big_x * 0.0557 - big_y * 0.2040 + big_z * 1.0570
    channels = [max(0.0, c) for c in (r, g, b)]
    top = max(channels) or 1.0
    return [round(255 * _gamma(c / top)) for c in channels]


def rgb_to_hs(rgb: Sequence[int]) -> tuple[float, float]:
    """Hue in degrees (0-360) and saturation in percent (0-100), as Home Assistant's `hs_color`."""
    h, s, _ = colorsys.rgb_to_hsv(*(c / 255 for c in rgb))
    return round(h * 360, 2), round(s * 100, 2)


def hs_to_rgb(hue: float, saturation: float) -> list[int]:
    if not (math.isfinite(hue) and math.isfinite(saturation)):
        raise ValueError(f"not a colour: {hue}, {saturation}")
    r, g, b = colorsys.hsv_to_rgb((hue % 360) / 360, max(0.0, min(100.0, saturation)) / 100, 1.0)
    return [round(r * 255), round(g * 255), round(b * 255)]


def full_value(rgb: Sequence[int]) -> list[int]:
    """The colour of `rgb` at full value: a dimmed red (153,0,0) is red (255,0,0)."""
    top = max(rgb)
    return [255, 255, 255] if top == 0 else [round(c * 255 / top) for c in rgb]


def same_colour(want: Sequence[int], got: Sequence[int]) -> bool:
    """Whether a device that reports `got` carried out a request for `want`, within its own precision."""
    hw, sw, _ = colorsys.rgb_to_hsv(*(c / 255 for c in want))
    hg, sg, _ = colorsys.rgb_to_hsv(*(c / 255 for c in got))
    if sw < WHITE_SATURATION or sg < WHITE_SATURATION:
        return abs(sw - sg) < 2 * WHITE_SATURATION
    apart = abs(hw - hg) * 360
    return min(apart, 360 - apart) <= HUE_TOLERANCE
