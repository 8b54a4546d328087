"""The earcon (issue #18): with `earcon` on, a command whose every action was confirmed in the hub's
own room is answered with the chime, not the spoken confirmation; anything else is still said."""

from __future__ import annotations

import asyncio
from pathlib import Path

import numpy as np

from device_drivers.mosquitto import Mosquitto
from edge_runtime.audio.earcon import NOTE_S, earcon
from edge_runtime.engines import Engines
from edge_runtime.settings import EdgeSettings
from tests.speech import Voices
from tests.turn_sets import Heard, hear, silence, with_home


def test_the_chime_is_two_clean_notes() -> None:
    pcm = earcon(22050)
    assert len(pcm) == 2 * round(NOTE_S * 22050) and pcm.dtype == np.int16
    assert abs(int(pcm[0])) < 300 and abs(int(pcm[-1])) < 300  # faded in and out: no click
    assert 5000 < int(np.abs(pcm).max()) < 8000  # about -14 dBFS
    spectrum = np.abs(np.fft.rfft(pcm[: len(pcm) // 2].astype(np.float64)))
    assert abs(np.argmax(spectrum) * 22050 / (len(pcm) // 2) - 880) < 25


def test_a_command_done_in_the_hubs_room_gets_the_chime(
    mosquitto: Mosquitto, tmp_path: Path, settings: EdgeSettings, engines: Engines, voices: Voices
) -> None:
    def say(text: str) -> np.ndarray:
        return np.concatenate([voices.piper("Hey Jarvis."), silence(0.3), voices.piper(text), silence(1.0)])

    async def scenario() -> list[Heard]:
        sim, hub, skill = await with_home(mosquitto.url, tmp_path / "d.sqlite3")
        hub.registry.home_area = "Kitchen"
        chimed = settings.model_copy(update={"earcon": True})
        try:
            return [
                await hear(chimed, engines, say("Turn on the kitchen light."), devices=skill),
                await hear(chimed, engines, say("Turn on the hallway light."), devices=skill),
                await hear(chimed, engines, say("What time is it?"), devices=skill),
                await hear(settings, engines, say("Turn off the kitchen light."), devices=skill),
            ]
        finally:
            await hub.stop()
            sim.__exit__(None, None, None)

    here, elsewhere, question, off = asyncio.run(scenario())
    assert here.played == ["earcon"] and here.replies == ["Turned on the Kitchen Light."], here
    assert elsewhere.played == ["answer"] and elsewhere.replies == ["Turned on the Hallway Light."], elsewhere
    assert question.played == ["answer"], question
    assert off.played == ["answer"], off  # the option is off by default
