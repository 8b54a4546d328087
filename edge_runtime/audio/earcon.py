"""The confirmation chime: played instead of "Turned on the kitchen light." when every action of a
turn happened in the hub's own room, where the user sees (or hears) it done, as Home Assistant's
satellites do. Made here from two sine notes rather than shipped as a file: no asset to pin."""

from __future__ import annotations

from functools import cache

import numpy as np

NOTES_HZ = (880.0, 1318.5)  # A5 then E6: a rising fifth, heard as "done"
NOTE_S = 0.09
LEVEL = 10 ** (-14 / 20)  # -14 dBFS: clearly heard, well under speech's peaks


@cache
def earcon(rate: int) -> np.ndarray:
    """The chime as int16 at `rate`; each note with a raised-cosine fade so it does not click."""
    n = round(NOTE_S * rate)
    t = np.arange(n) / rate
    fade = min(n // 4, round(0.012 * rate))
    envelope = np.ones(n)
    ramp = 0.5 - 0.5 * np.cos(np.linspace(0.0, np.pi, fade))
    envelope[:fade], envelope[-fade:] = ramp, ramp[::-1]
    notes = [np.sin(2 * np.pi * f * t) * envelope for f in NOTES_HZ]
    tone = np.concatenate(notes) * LEVEL
    pcm = (tone * 32767).astype(np.int16)
    pcm.flags.writeable = False
    return pcm
