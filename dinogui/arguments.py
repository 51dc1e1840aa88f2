"""argparse types: parse, then refuse a value outside its rule with one clear line.

A setting's type and limits come from core.settings (`of(setting)`); the few numbers that
are only the command line's (the bench's seconds and seeds) use `number` directly.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable

from dinogui.core.settings import SAMPLING, Setting


def number(kind: type, check: Callable[[float], bool], rule: str) -> Callable[[str], float]:
    """An argparse type: parse `kind`, then refuse a value outside `rule`."""
    noun = "a whole number" if kind is int else "a number"

    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not {noun}") from None
        if not check(value):
            raise argparse.ArgumentTypeError(f"{text!r} must be {rule}")
        return value

    return parse


def of(setting: Setting) -> Callable[[str], float]:
    """The argparse type of a setting in core.settings: its kind, its limits, its words."""
    return number(setting.kind, setting.accepts, setting.rule())


def help_for(setting: Setting, default: object | None = None, extra: str = "") -> str:
    """A flag's help: the table's line, its values, the default this command applies."""
    shown = setting.default if default is None else default
    parts = [] if setting.choices else [setting.rule()]
    if shown is not None:
        parts.append(f"default {shown:g}" if isinstance(shown, float) else f"default {shown}")
    return f"{setting.help} ({'; '.join(parts + ([extra] if extra else []))})"


positive_int = number(int, lambda v: v >= 1, "at least 1")
positive_float = number(float, lambda v: 0 < v < math.inf, "a positive number")
count = number(int, lambda v: v >= 0, "zero or more")
seed = of(SAMPLING["seed"])
