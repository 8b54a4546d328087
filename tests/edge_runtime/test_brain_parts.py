"""The brain's parts one by one: number words, name repair, signals, sentences, tool-call checks."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from device_drivers import Attribute, Convention, Device, Kind
from edge_runtime.brain.fuzzy import repair
from edge_runtime.brain.intents import Action
from edge_runtime.brain.planner import in_unit
from edge_runtime.brain.safety import needs_confirmation
from edge_runtime.brain.signals import read_signals, strip_override
from edge_runtime.brain.speech import sentences
from edge_runtime.brain.text import numbers_to_digits, prepare
from edge_runtime.brain.tools import schema, validate
from edge_runtime.devices.registry import DeviceRecord


@pytest.mark.parametrize(
    ("spoken", "digits"),
    [
        ("dim the lights to thirty percent", "dim the lights to 30 percent"),
        ("set the thermostat to twenty one degrees", "set the thermostat to 21 degrees"),
        ("set it to one hundred percent", "set it to 100 percent"),
        ("turn on a light", "turn on a light"),  # "a" is not one here
        ("turn on the one lamp", "turn on the one lamp"),  # a name, not a value
        ("dimme das licht auf dreißig prozent", "dimme das licht auf 30 prozent"),
        ("stelle die heizung auf einundzwanzig grad", "stelle die heizung auf 21 grad"),
        ("schalte das licht ein", "schalte das licht ein"),
    ],
)
def test_numbers_become_digits_only_where_they_set_a_value(spoken: str, digits: str) -> None:
    assert numbers_to_digits(spoken) == digits


def test_prepare_strips_the_wake_word_and_punctuation() -> None:
    assert prepare("Hey Jarvis, dim the lamp to fifty per cent!") == "dim the lamp to 50 percent"


def test_name_repair_fixes_speech_errors_and_leaves_command_words() -> None:
    names = ["kitchen light", "thermostat", "bedroom lamp", "tv plug"]
    fixed = repair("turn on the kitchen lite", names)
    assert fixed is not None and fixed.text == "turn on the kitchen light" and 0.8 <= fixed.score < 1
    assert repair("set the thermo stat to 21", names).text == "set the thermostat to 21"  # type: ignore[union-attr]
    assert repair("turn on the bed room lamp", names).text == "turn on the bedroom lamp"  # type: ignore[union-attr]
    assert repair("what a lovely day", names) is None
    assert repair("turn off the garden hose", names) is None  # nothing close enough: no guess


def test_signals_say_why_a_turn_goes_to_the_cloud() -> None:
    assert read_signals("who wrote hamlet").knowledge
    assert read_signals("translate hello into french").translation
    assert read_signals("remember that my sister likes tulips").memory
    assert read_signals("write a poem about the sea").long_answer
    assert read_signals(" ".join(["word"] * 31)).long_answer
    talk = read_signals("how are you")
    assert talk.small_talk and not talk.needs_cloud
    polite = read_signals("could you get the coffee maker going")
    assert not polite.beyond_devices  # a polite request is not a question
    assert strip_override("ask the cloud what a quasar is") == ("what a quasar is", True)
    assert strip_override("turn on the light") == ("turn on the light", False)
    assert read_signals("what a quasar is", override=True).needs_cloud


def test_sentences_are_released_as_soon_as_they_end() -> None:
    async def pieces() -> AsyncIterator[str]:
        for p in ["It is 2.5 km", " away. Take the", " bus! Or", " walk"]:
            yield p

    async def collect() -> list[str]:
        return [s async for s in sentences(pieces())]

    assert asyncio.run(collect()) == ["It is 2.5 km away.", "Take the bus!", "Or walk"]


def _record(name: str, kind: Kind, attrs: dict[str, Attribute], area: str = "", device_class: str = "") -> DeviceRecord:
    device = Device(f"ha:{name}", Convention.HOME_ASSISTANT, kind, name, attrs, device_class=device_class)
    return DeviceRecord(device, area=area or None)


LAMP = _record(
    "Desk Lamp",
    Kind.LIGHT,
    {"on": Attribute("on", "bool"), "brightness": Attribute("brightness", "int", min=0, max=100)},
)
DOOR = _record("Front Door", Kind.LOCK, {"locked": Attribute("locked", "bool")})
GARAGE = _record(
    "Big Door", Kind.COVER, {"state": Attribute("state", "enum", options=("open", "close"))}, device_class="garage"
)


def test_tool_schema_offers_only_the_candidates_and_their_writable_attributes() -> None:
    s = schema([LAMP])
    assert s["properties"]["device"]["enum"] == ["desk lamp"]
    assert s["properties"]["attribute"]["enum"] == ["brightness", "on"]


def test_every_tool_call_is_validated_before_any_action() -> None:
    ok = validate({"device": "desk lamp", "attribute": "brightness", "value": 40}, [LAMP], "dim the desk lamp a lot")
    assert ok.valid and ok.action is not None and ok.action.values == {"brightness": 40}
    assert validate({"device": "sofa", "attribute": "on", "value": True}, [LAMP]).error == "UNKNOWN_DEVICE"
    assert validate({"device": "desk lamp", "attribute": "color", "value": 1}, [LAMP]).error == "UNKNOWN_ATTRIBUTE"
    assert validate({"device": "desk lamp", "attribute": "brightness", "value": 400}, [LAMP]).error == "INVALID_VALUE"
    # The sentence decides on or off; the model only picks the device and attribute.
    wrong_way = validate({"device": "desk lamp", "attribute": "on", "value": False}, [LAMP], "get the desk lamp going")
    assert wrong_way.action is not None and wrong_way.action.values == {"on": True}
    degrees = validate({"device": "desk lamp", "attribute": "on", "value": True}, [LAMP], "make it 21 degrees")
    assert degrees.error == "DOES_NOT_FIT_REQUEST"  # degrees are a thermostat's: a lamp never fits


def test_risky_actions_need_a_yes_by_device_class() -> None:
    records = {r.id: r for r in (LAMP, DOOR, GARAGE)}
    unlock = Action(DOOR.id, "Front Door", {"locked": False}, "lock")
    lock = Action(DOOR.id, "Front Door", {"locked": True}, "lock")
    open_garage = Action(GARAGE.id, "Big Door", {"state": "open"}, "cover")
    lamp = Action(LAMP.id, "Desk Lamp", {"on": True}, "light")
    classes = frozenset({"lock", "garage", "alarm"})
    asks = needs_confirmation(records, [unlock, lock, open_garage, lamp], classes, every_action=False)
    assert [(a.name, verb) for a, verb in asks] == [("Front Door", "unlock"), ("Big Door", "open")]
    strict = needs_confirmation(records, [lock], classes, every_action=True)
    assert [verb for _, verb in strict] == ["lock"]
    assert needs_confirmation(records, [unlock], frozenset({"garage"}), every_action=False) == []


def test_confirmation_classes_come_from_one_setting() -> None:
    from edge_runtime.settings import EdgeSettings

    assert EdgeSettings(confirm_classes="lock, Garage,").confirm_class_set == {"lock", "garage"}
    assert EdgeSettings(confirm_classes="").confirm_class_set == frozenset()
    assert EdgeSettings().confirm_class_set == {"lock", "garage", "alarm"}


def test_a_wake_phrase_left_in_the_transcript_does_not_make_a_question_small_talk() -> None:
    """Whisper sometimes writes the wake phrase ("Hey Jarvis, what's the weather ..."): its "hey" read
    as a greeting sent a weather question to the small LLM, which made up an answer."""
    from device_drivers.mosquitto import free_port
    from edge_runtime.brain.escalate import Escalator
    from edge_runtime.brain.router import Brain
    from edge_runtime.clock import SystemClock
    from edge_runtime.skills.builtin import BuiltinSkills
    from edge_runtime.skills.timers import TimerManager
    from tests.fakes.llm import FakeLLM

    async def ring(timer: object, repeat: int) -> None:
        return None

    async def token() -> str:
        return "t"

    async def scenario() -> list[tuple[str, str]]:
        clock = SystemClock(None)
        nobody = Escalator(f"http://127.0.0.1:{free_port()}", "hub", token, first_reply_s=2.0, total_s=3.0)
        brain = Brain(BuiltinSkills(clock, TimerManager(clock, ring)), llm=FakeLLM(fake_text="Sunny!"), cloud=nobody)
        said = ["Hey Jarvis, what's the weather like in pairs tomorrow?", "Hey Jarvis, good morning!"]
        results = [await brain.handle(text) for text in said]
        await nobody.close()
        return [(r.route, r.intent) for r in results]

    assert asyncio.run(scenario()) == [("cloud", "escalate"), ("local-llm", "small-talk")]


@pytest.mark.parametrize(
    ("value", "said", "unit", "sent"),
    [
        (68.0, "fahrenheit", "°C", 20.0),  # said in °F, a °C thermostat: converted, to the half degree
        (71.0, "fahrenheit", "°C", 21.5),
        (21.0, "celsius", "°F", 70.0),  # the other way, to the whole degree a °F thermostat takes
        (21.0, "celsius", "°C", 21.0),
        (70.0, "fahrenheit", "°F", 70.0),
        (21.0, None, "°F", 21.0),  # no unit said: as said, in the thermostat's own
        (68.0, "fahrenheit", None, 68.0),  # the thermostat's unit unknown: nothing to convert to
    ],
)
def test_a_temperature_said_in_another_unit_is_sent_in_the_thermostats(
    value: float, said: str | None, unit: str | None, sent: float
) -> None:
    assert in_unit(value, said, unit) == sent
