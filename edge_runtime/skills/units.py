"""Units the calculator converts between: what each is called, what it measures, its size in a base unit.

Sizes are exact definitions where there are ones (an inch is 2.54 cm, a pound 453.59237 g); cups,
pints, quarts, gallons and fluid ounces are US customary. Temperatures are converted by formula.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Unit:
    singular: str
    plural: str
    dimension: str  # length, mass, volume, time, temperature
    size: float  # in the dimension's base unit: meter, gram, milliliter, second (1 for temperatures)

    def name(self, value: float) -> str:
        return self.singular if value == 1 else self.plural


_CUP_ML = 236.5882365
_TABLE: list[tuple[str, str, str, float, tuple[str, ...]]] = [
    ("millimeter", "millimeters", "length", 0.001, ("mm", "millimetre", "millimetres")),
    ("centimeter", "centimeters", "length", 0.01, ("cm", "centimetre", "centimetres")),
    ("meter", "meters", "length", 1.0, ("metre", "metres")),
    ("kilometer", "kilometers", "length", 1000.0, ("km", "kilometre", "kilometres", "kms")),
    ("inch", "inches", "length", 0.0254, ()),
    ("foot", "feet", "length", 0.3048, ("ft",)),
    ("yard", "yards", "length", 0.9144, ()),
    ("mile", "miles", "length", 1609.344, ()),
    ("milligram", "milligrams", "mass", 0.001, ("mg",)),
    ("gram", "grams", "mass", 1.0, ("g", "gramme", "grammes")),
    ("kilogram", "kilograms", "mass", 1000.0, ("kg", "kilo", "kilos", "kgs")),
    ("ounce", "ounces", "mass", 28.349523125, ("oz",)),
    ("pound", "pounds", "mass", 453.59237, ("lb", "lbs")),
    ("stone", "stone", "mass", 6350.29318, ("stones",)),
    ("milliliter", "milliliters", "volume", 1.0, ("ml", "millilitre", "millilitres", "mls")),
    ("liter", "liters", "volume", 1000.0, ("litre", "litres")),
    ("teaspoon", "teaspoons", "volume", _CUP_ML / 48, ("tsp",)),
    ("tablespoon", "tablespoons", "volume", _CUP_ML / 16, ("tbsp",)),
    ("fluid ounce", "fluid ounces", "volume", _CUP_ML / 8, ("fl oz",)),
    ("cup", "cups", "volume", _CUP_ML, ()),
    ("pint", "pints", "volume", _CUP_ML * 2, ()),
    ("quart", "quarts", "volume", _CUP_ML * 4, ()),
    ("gallon", "gallons", "volume", _CUP_ML * 16, ()),
    ("second", "seconds", "time", 1.0, ("sec", "secs")),
    ("minute", "minutes", "time", 60.0, ("min", "mins")),
    ("hour", "hours", "time", 3600.0, ("hr", "hrs")),
    ("day", "days", "time", 86400.0, ()),
    ("week", "weeks", "time", 604800.0, ()),
    ("degree Celsius", "degrees Celsius", "temperature", 1.0, ("celsius", "centigrade", "degrees centigrade")),
    ("degree Fahrenheit", "degrees Fahrenheit", "temperature", 1.0, ("fahrenheit",)),
    ("kelvin", "kelvin", "temperature", 1.0, ("kelvins",)),
]

UNITS: dict[str, Unit] = {}
for _singular, _plural, _dimension, _size, _aliases in _TABLE:
    _unit = Unit(_singular, _plural, _dimension, _size)
    for _alias in (_singular, _plural, *_aliases):
        UNITS[_alias.lower()] = _unit
        if _dimension == "temperature" and not _alias.startswith("degree"):
            UNITS[f"degrees {_alias}".lower()] = _unit
            UNITS[f"degree {_alias}".lower()] = _unit
FLUID_OUNCE = UNITS["fluid ounce"]
LONGEST = max(len(alias.split()) for alias in UNITS)


def unit_at(words: list[str], i: int) -> tuple[Unit, int] | None:
    """The longest unit name starting at words[i]: (unit, index after it)."""
    for n in range(LONGEST, 0, -1):
        if i + n <= len(words) and (unit := UNITS.get(" ".join(words[i : i + n]))) is not None:
            return unit, i + n
    return None


def compatible(source: Unit, target: Unit) -> tuple[Unit, Unit] | None:
    """The pair to convert between, or None. "Ounces" beside a volume are fluid ounces."""
    if source.dimension != target.dimension:
        if source.singular == "ounce" and target.dimension == "volume":
            source = FLUID_OUNCE
        elif target.singular == "ounce" and source.dimension == "volume":
            target = FLUID_OUNCE
        else:
            return None
    return (source, target) if source != target else None


def convert(value: float, source: Unit, target: Unit) -> float:
    if source.dimension != "temperature":
        return value * source.size / target.size
    celsius = {"degree Celsius": value, "degree Fahrenheit": (value - 32) * 5 / 9}.get(source.singular, value - 273.15)
    if target.singular == "degree Celsius":
        return celsius
    return celsius * 9 / 5 + 32 if target.singular == "degree Fahrenheit" else celsius + 273.15
