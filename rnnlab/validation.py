"""Range checks for hyperparameters: the one place where allowed values are enforced.

Each model and task declares its rules next to its fields, as a class attribute
``rules = {"field": Range(...)}``; :func:`check_ranges` enforces them. The CLI calls it with
the config prefix (``model.``, ``task.``) so a message names the key exactly as it was typed.
"""

from dataclasses import dataclass
import math
import numbers


class ConfigError(ValueError):
    """A configuration value that is out of range, or a pairing that cannot run.

    Its message is one line naming the key, the value and what is allowed.
    """


@dataclass(frozen=True)
class Range:
    """An interval of allowed values: ``low < value`` (or ``<=`` when closed) and likewise high."""

    low: float | None = None
    high: float | None = None
    low_closed: bool = True
    high_closed: bool = True

    def contains(self, value) -> bool:
        if isinstance(value, float) and not math.isfinite(value):
            return False
        if self.low is not None and (value < self.low or (value == self.low and not self.low_closed)):
            return False
        if self.high is not None and (value > self.high or (value == self.high and not self.high_closed)):
            return False
        return True

    def __str__(self) -> str:
        if self.low is not None and self.high is not None:
            left, right = "[" if self.low_closed else "(", "]" if self.high_closed else ")"
            return f"in {left}{self.low:g}, {self.high:g}{right}"
        if self.low is not None:
            return f"{'>=' if self.low_closed else '>'} {self.low:g}"
        if self.high is not None:
            return f"{'<=' if self.high_closed else '<'} {self.high:g}"
        return "any finite number"


@dataclass(frozen=True)
class OneOf:
    """A finite set of allowed values (names such as ``"tanh"``)."""

    choices: tuple

    def contains(self, value) -> bool:
        return value in self.choices

    def __str__(self) -> str:
        return "one of " + ", ".join(str(choice) for choice in self.choices)


def positive() -> Range:
    return Range(low=0, low_closed=False)


def non_negative() -> Range:
    return Range(low=0)


def at_least(low) -> Range:
    return Range(low=low)


def fraction(low_closed=False, high_closed=True) -> Range:
    return Range(0, 1, low_closed, high_closed)


def check_ranges(obj, prefix: str) -> None:
    """Raise ConfigError for the first field of ``obj`` outside its declared rule.

    A field whose value is None is unset (an optional setting) and is not checked.
    """
    for name, allowed in type(obj).rules.items():
        value = getattr(obj, name)
        if value is not None and not allowed.contains(value):
            problem = "is out of range" if isinstance(allowed, Range) else "is not allowed"
            raise ConfigError(f"{prefix}{name}={value!r} {problem}: allowed {allowed}")


def check_list(values, allowed: Range, key: str, optional: bool = False) -> None:
    """Raise ConfigError unless ``values`` is a non-empty list of numbers each in ``allowed``
    (None passes when ``optional``)."""
    if values is None and optional:
        return
    numbers = isinstance(values, (list, tuple)) and len(values) > 0 and all(
        isinstance(v, (int, float)) and not isinstance(v, bool) and allowed.contains(v)
        for v in values)
    if not numbers:
        shown = list(values) if isinstance(values, (list, tuple)) else values
        raise ConfigError(f"{key}={shown} is out of range: allowed a non-empty list of numbers, "
                          f"each {allowed}")


def check_integer(value, name: str, allowed: Range, note: str = "") -> None:
    """Raise ValueError unless ``value`` is an integer (not a bool) in ``allowed``, e.g.
    "steps=-5 is out of range: allowed an integer >= 0"."""
    integer = isinstance(value, numbers.Integral) and not isinstance(value, bool)
    if not (integer and allowed.contains(value)):
        raise ValueError(f"{name}={value!r} is out of range: allowed an integer {allowed}{note}")


def require(condition: bool, message: str) -> None:
    """Raise ConfigError(message) unless condition holds (for rules that relate two keys)."""
    if not condition:
        raise ConfigError(message)
